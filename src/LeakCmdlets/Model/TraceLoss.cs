using System.Collections.Generic;

namespace LeakTools.Model;

/// <summary>
/// What a trace could not record. A tracer that drops data silently lies about leaks, so every report
/// carries these counters, and the cmdlets warn when any is non-zero.
/// </summary>
public sealed class TraceLoss
{
    /// <summary>Allocations not recorded because the outstanding-allocation map was full.</summary>
    public ulong MapFull { get; set; }

    /// <summary>Stacks not kept, mostly because the stack map was full (their allocations keep only the direct caller).</summary>
    public ulong StacksLost { get; set; }

    /// <summary>Allocator calls whose return was never seen, so their result is unknown.</summary>
    public ulong MissedReturns { get; set; }

    /// <summary>Events dropped because the ring buffer was full (Watch-Allocation only: the consumer was too slow).</summary>
    public ulong RingBufferDrops { get; set; }

    /// <summary>
    /// Streamed events skipped because their ring record had another size than LeakTools expects: the eBPF object
    /// and the module were built from different sources (rebuild with build.ps1). Every event is lost then.
    /// </summary>
    public ulong MismatchedRecords { get; set; }

    /// <summary>Adds <paramref name="count"/> to the counter <paramref name="kind"/> names (nothing for None).</summary>
    internal void Add(TraceLossKind kind, ulong count)
    {
        switch (kind)
        {
            case TraceLossKind.MapFull: MapFull += count; break;
            case TraceLossKind.StacksLost: StacksLost += count; break;
            case TraceLossKind.MissedReturns: MissedReturns += count; break;
            case TraceLossKind.RingBufferDrops: RingBufferDrops += count; break;
            case TraceLossKind.MismatchedRecords: MismatchedRecords += count; break;
        }
    }

    /// <summary>True when nothing was lost.</summary>
    public bool IsEmpty => MapFull == 0 && StacksLost == 0 && MissedReturns == 0 && RingBufferDrops == 0 && MismatchedRecords == 0;

    /// <summary>What was lost after <paramref name="earlier"/>: each counter's growth (0 where it did not grow).</summary>
    public TraceLoss Since(TraceLoss earlier) => new()
    {
        MapFull = Growth(MapFull, earlier.MapFull),
        StacksLost = Growth(StacksLost, earlier.StacksLost),
        MissedReturns = Growth(MissedReturns, earlier.MissedReturns),
        RingBufferDrops = Growth(RingBufferDrops, earlier.RingBufferDrops),
        MismatchedRecords = Growth(MismatchedRecords, earlier.MismatchedRecords),
    };

    private static ulong Growth(ulong now, ulong before) => now > before ? now - before : 0;

    public override string ToString()
    {
        if (IsEmpty) return "none";
        var parts = new List<string>();
        if (MapFull != 0) parts.Add($"map full {MapFull}");
        if (StacksLost != 0) parts.Add($"stacks lost {StacksLost}");
        if (MissedReturns != 0) parts.Add($"missed returns {MissedReturns}");
        if (RingBufferDrops != 0) parts.Add($"ring-buffer drops {RingBufferDrops}");
        if (MismatchedRecords != 0) parts.Add($"ring records of the wrong size {MismatchedRecords} (rebuild the module with build.ps1)");
        return string.Join(", ", parts);
    }
}
