using System;
using System.Collections.Generic;
using LeakTools.Bpf;
using LeakTools.Model;
using Stat = LeakTools.Bpf.MemleakAbi.Stat;

namespace LeakTools.Tracing;

/// <summary>Counters summed over CPUs. Every way to lose data has its own counter: nothing is dropped silently.</summary>
public sealed class TracerStatistics
{
    /// <summary>memleak.bpf.c's "stats" counters, indexed by <see cref="MemleakAbi.Stat"/> (all 0 in CountOnly mode).</summary>
    private readonly ulong[] _counters = new ulong[(int)Stat.HitsBase];

    /// <summary>Probe hits per function (entry side); in CountOnly mode the floor probe's counts.</summary>
    public Dictionary<AllocatorFunction, ulong> Hits { get; set; } = new();
    /// <summary>CountOnly: return-probe hits per function.</summary>
    public Dictionary<AllocatorFunction, ulong> ReturnHits { get; set; } = new();
    public ulong TotalHits { get; set; }

    /// <summary>
    /// Ring records skipped because their size did not match the C# mirror of struct memleak_event: the loaded
    /// eBPF object and LeakTools.dll were built from different versions of native/memleak.h.
    /// </summary>
    public ulong MismatchedRecords { get; set; }

    /// <summary>The statistics of a "stats" array summed over CPUs (MEMLEAK_STAT_COUNT entries).</summary>
    internal static TracerStatistics FromCounters(ReadOnlySpan<ulong> stats, ulong mismatchedRecords)
    {
        var statistics = new TracerStatistics { MismatchedRecords = mismatchedRecords };
        stats[..(int)Stat.HitsBase].CopyTo(statistics._counters);
        for (int fn = 0; fn < MemleakAbi.FunctionCount; fn++)
        {
            ulong hits = stats[(int)Stat.HitsBase + fn];
            if (hits != 0) statistics.Hits[(AllocatorFunction)fn] = hits;
            statistics.TotalHits += hits;
        }
        return statistics;
    }

    internal ulong this[Stat stat] => _counters[(int)stat];

    public ulong Allocations => this[Stat.Allocs];
    public ulong Frees => this[Stat.Frees];
    public ulong UnknownFrees => this[Stat.UnknownFrees];
    public ulong FailedAllocations => this[Stat.FailedAllocs];
    /// <summary>Allocations lost because the outstanding map was full.</summary>
    public ulong MapFullDrops => this[Stat.MapFull];
    /// <summary>Stacks not kept because the stack map was full; the direct caller is still kept.</summary>
    public ulong StackMapFull => this[Stat.StackMapFull];
    /// <summary>Stacks not captured for another reason (kernel unwinder error, scratch space in use on the CPU).</summary>
    public ulong StackErrors => this[Stat.StackErrors];
    /// <summary>Allocator calls whose return was never seen (their result is unknown).</summary>
    public ulong MissedReturns => this[Stat.MissedReturns];
    /// <summary>Events lost because the kernel ring buffer was full.</summary>
    public ulong RingBufferDrops => this[Stat.RingbufDrops];
    public ulong NestingOverflows => this[Stat.NestingOverflow];
    public ulong PendingErrors => this[Stat.PendingErrors];
    public ulong SampledOut => this[Stat.SampledOut];
    public ulong FilteredOut => this[Stat.FilteredOut];
    /// <summary>Allocator calls made by the allocator itself (malloc → mmap); deliberately not recorded.</summary>
    public ulong NestedCalls => this[Stat.NestedCalls];

    /// <summary>What was lost: every counter added to the TraceLoss counter its row in memleak.h names.</summary>
    public TraceLoss ToLoss()
    {
        var loss = new TraceLoss();
        for (int i = 0; i < _counters.Length; i++) loss.Add(MemleakAbi.StatLoss[i], _counters[i]);
        loss.Add(TraceLossKind.MismatchedRecords, MismatchedRecords);
        return loss;
    }

    public override string ToString()
        => $"hits {TotalHits}, allocations {Allocations}, frees {Frees}, lost: {ToLoss()}";
}
