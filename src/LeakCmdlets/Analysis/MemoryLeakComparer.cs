using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Model;

namespace LeakTools.Analysis;

/// <summary>
/// Compares two sets of MemoryLeak objects stack by stack (before and after a deploy, host A and host B).
/// Stacks match by process name and <see cref="StackKey"/>; each side's leaks of one stack are summed over its
/// processes (several workers, other PIDs after a restart), after keeping each process's latest report.
/// </summary>
public static class MemoryLeakComparer
{
    /// <summary>Differences, biggest byte growth first; Unchanged stacks only with <paramref name="includeEqual"/>.</summary>
    public static List<MemoryLeakDifference> Compare(IEnumerable<MemoryLeakInput> reference, IEnumerable<MemoryLeakInput> difference, bool includeEqual = false)
    {
        Dictionary<string, Side> before = Sum(reference);
        Dictionary<string, Side> after = Sum(difference);
        var result = new List<MemoryLeakDifference>();
        foreach (string key in before.Keys.Union(after.Keys))
        {
            before.TryGetValue(key, out Side? r);
            after.TryGetValue(key, out Side? d);
            Side shown = d ?? r!;
            var change = new MemoryLeakDifference
            {
                ProcessName = shown.ProcessName,
                ReferenceBytes = r?.Bytes ?? 0,
                DifferenceBytes = d?.Bytes ?? 0,
                ReferenceCount = r?.Count ?? 0,
                DifferenceCount = d?.Count ?? 0,
                Stack = shown.Stack,
                StackText = shown.StackText,
            };
            change.BytesDelta = Delta(change.DifferenceBytes, change.ReferenceBytes);
            change.CountDelta = Delta(change.DifferenceCount, change.ReferenceCount);
            change.Change = r is null ? MemoryLeakChangeKind.New
                : d is null ? MemoryLeakChangeKind.Gone
                : (change.BytesDelta, change.CountDelta) switch
                {
                    ( > 0, _) or (0, > 0) => MemoryLeakChangeKind.Grown,
                    ( < 0, _) or (0, < 0) => MemoryLeakChangeKind.Shrunk,
                    _ => MemoryLeakChangeKind.Unchanged,
                };
            if (change.Change != MemoryLeakChangeKind.Unchanged || includeEqual) result.Add(change);
        }
        return result
            .OrderByDescending(c => c.BytesDelta)
            .ThenByDescending(c => c.CountDelta)
            .ThenBy(c => c.ProcessName, StringComparer.Ordinal)
            .ThenBy(c => c.StackText, StringComparer.Ordinal)
            .ToList();
    }

    public static List<MemoryLeakDifference> Compare(IEnumerable<MemoryLeak> reference, IEnumerable<MemoryLeak> difference, bool includeEqual = false) =>
        Compare(reference.Select(l => new MemoryLeakInput(l)), difference.Select(l => new MemoryLeakInput(l)), includeEqual);

    private static Dictionary<string, Side> Sum(IEnumerable<MemoryLeakInput> leaks)
    {
        var sides = new Dictionary<string, Side>(StringComparer.Ordinal);
        foreach (MemoryLeakInput input in LatestLeakReport.Select(leaks, out _))
        {
            MemoryLeak leak = input.Leak;
            string key = $"{leak.ProcessName}\0{StackKey.Of(leak.Stack)}";
            if (!sides.TryGetValue(key, out Side? side))
            {
                string text = string.IsNullOrEmpty(leak.StackText) ? StackFormatter.Join(leak.Stack) : leak.StackText;
                sides.Add(key, side = new Side(leak.ProcessName, leak.Stack, text));
            }
            side.Bytes += leak.Bytes;
            side.Count += leak.Count;
        }
        return sides;
    }

    private static long Delta(ulong after, ulong before) =>
        after >= before ? (long)Math.Min(after - before, long.MaxValue) : -(long)Math.Min(before - after, long.MaxValue);

    private sealed class Side(string? processName, StackFrame[] stack, string stackText)
    {
        public string? ProcessName { get; } = processName;
        public StackFrame[] Stack { get; } = stack;
        public string StackText { get; } = stackText;
        public ulong Bytes { get; set; }
        public ulong Count { get; set; }
    }
}
