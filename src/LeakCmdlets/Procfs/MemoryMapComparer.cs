using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Model;

namespace LeakTools.Procfs;

/// <summary>
/// Pairs the mappings of two snapshots by process, start address and path, and says which grew.
/// A heap that grows through brk keeps its start, so it pairs with itself. An anonymous region that grows
/// downwards (the kernel merges a new mmap into the mapping above it) keeps its end instead, so mappings
/// left unpaired by start are paired by end. Whatever is left is Added or Removed.
/// </summary>
public static class MemoryMapComparer
{
    public static List<MemoryMappingChange> Compare(IEnumerable<MemoryMapping> before, IEnumerable<MemoryMapping> after, bool includeUnchanged = false)
    {
        var byStart = new Dictionary<(int, ulong, string), MemoryMapping>();
        foreach (MemoryMapping m in before) byStart[(m.ProcessId, m.Start, m.Path)] = m;

        var pairs = new List<(MemoryMapping? Then, MemoryMapping Now)>();
        var unpaired = new List<MemoryMapping>();
        foreach (MemoryMapping now in after)
        {
            if (byStart.Remove((now.ProcessId, now.Start, now.Path), out MemoryMapping? then)) pairs.Add((then, now));
            else unpaired.Add(now);
        }

        var byEnd = new Dictionary<(int, ulong, string), MemoryMapping>();
        foreach (MemoryMapping m in byStart.Values) byEnd[(m.ProcessId, m.End, m.Path)] = m;
        foreach (MemoryMapping now in unpaired)
        {
            pairs.Add(byEnd.Remove((now.ProcessId, now.End, now.Path), out MemoryMapping? then) ? (then, now) : (null, now));
        }

        var changes = new List<MemoryMappingChange>();
        foreach (var (then, now) in pairs)
        {
            MemoryMappingChange change = Describe(then, now);
            if (includeUnchanged || change.Change != MappingChangeKind.Unchanged) changes.Add(change);
        }
        foreach (MemoryMapping gone in byEnd.Values) changes.Add(Describe(gone, null));

        return changes
            .OrderByDescending(c => c.RssDelta)
            .ThenByDescending(c => c.SizeDelta)
            .ThenByDescending(c => c.PrivateDirtyDelta)
            .ThenBy(c => c.ProcessId)
            .ThenBy(c => c.Start)
            .ToList();
    }

    private static MemoryMappingChange Describe(MemoryMapping? then, MemoryMapping? now)
    {
        MemoryMapping any = now ?? then!;
        var change = new MemoryMappingChange
        {
            ProcessId = any.ProcessId,
            ProcessName = now?.ProcessName ?? then?.ProcessName,
            Start = any.Start,
            End = any.End,
            Permissions = any.Permissions,
            Path = any.Path,
            Kind = any.Kind,
            SizeBefore = then?.Size,
            SizeAfter = now?.Size,
            RssBefore = then?.Rss,
            RssAfter = now?.Rss,
            PrivateDirtyBefore = then?.PrivateDirty,
            PrivateDirtyAfter = now?.PrivateDirty,
        };
        change.SizeDelta = (now?.Size ?? 0) - (then?.Size ?? 0);
        change.RssDelta = (now?.Rss ?? 0) - (then?.Rss ?? 0);
        change.PrivateDirtyDelta = (now?.PrivateDirty ?? 0) - (then?.PrivateDirty ?? 0);
        change.SwapDelta = (now?.Swap ?? 0) - (then?.Swap ?? 0);

        if (then is not null && now is not null && then.Timestamp != default && now.Timestamp > then.Timestamp)
        {
            change.IntervalSeconds = (now.Timestamp - then.Timestamp).TotalSeconds;
            change.RssBytesPerSecond = change.RssDelta / change.IntervalSeconds;
        }

        long score = change.RssDelta != 0 ? change.RssDelta : change.SizeDelta != 0 ? change.SizeDelta : change.PrivateDirtyDelta;
        change.Change = then is null ? MappingChangeKind.Added
            : now is null ? MappingChangeKind.Removed
            : score > 0 ? MappingChangeKind.Grown
            : score < 0 ? MappingChangeKind.Shrunk
            : MappingChangeKind.Unchanged;
        return change;
    }
}
