using System;
using System.Collections.Generic;
using LeakTools.Reachability;

namespace LeakTools.Targets;

/// <summary>
/// One -Verdict pass over a traced process. The outstanding blocks are read before the pause (the report's own
/// read); the pause copies the memory; after it the outstanding map is read again, and only blocks present in
/// both reads (same address, same allocation time) are judged. A block freed before the pause would otherwise
/// look lost (nothing points at freed memory); a block allocated after the first read is simply untraced memory,
/// which counts as a root: it can hide a leak for one pass, never invent one.
/// </summary>
internal static class TargetVerdictPass
{
    /// <summary>
    /// The copy's buffer for the next pass, sized and faulted in while the target runs. Take it before the report reads
    /// the outstanding blocks: the longer between that read and the pause, the fewer blocks live through both reads.
    /// </summary>
    public static MemorySnapshot Prepare(TracedTarget target) => MemorySnapshot.Prepare(target.ProcessId);

    /// <param name="prepared">From <see cref="Prepare"/>; the pass owns it.</param>
    /// <exception cref="TargetPauseException">The target is traced by another process, gone, or the helper failed.</exception>
    public static VerdictPassResult Run(TracedTarget target, List<(ulong Address, ulong Size, ulong TimestampNs)> before,
        TimeSpan limit, Func<bool> stopRequested, MemorySnapshot prepared)
    {
        using var scan = ReachabilityScan.Take(target.ProcessId, limit, stopRequested, prepared);
        var after = new HashSet<(ulong, ulong)>(before.Count);
        target.Tracer.ReadOutstanding(batch =>
        {
            foreach (ref readonly var allocation in batch) after.Add((allocation.Address, allocation.TimestampNs));
        });
        before.RemoveAll(block => !after.Contains((block.Address, block.TimestampNs)));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var table = VerdictTable.Classify(scan, before);
        return new VerdictPassResult(table, scan.PauseTime, scan.BytesCopied, scan.ThreadCount, watch.Elapsed);
    }
}

/// <summary>A pass's verdicts and what it cost: how long the target was held, how much was copied, how long the scan took.</summary>
internal sealed record VerdictPassResult(VerdictTable Table, TimeSpan PauseTime, ulong BytesCopied, int Threads, TimeSpan ScanTime);
