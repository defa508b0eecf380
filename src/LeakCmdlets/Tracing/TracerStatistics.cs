using System.Collections.Generic;

namespace LeakTools.Tracing;

/// <summary>Counters summed over CPUs. Every way to lose data has its own counter: nothing is dropped silently.</summary>
public sealed class TracerStatistics
{
    /// <summary>Probe hits per function (entry side); in CountOnly mode the floor probe's counts.</summary>
    public Dictionary<AllocatorFunction, ulong> Hits { get; set; } = new();
    /// <summary>CountOnly: return-probe hits per function.</summary>
    public Dictionary<AllocatorFunction, ulong> ReturnHits { get; set; } = new();
    public ulong TotalHits { get; set; }
    public ulong Allocations { get; set; }
    public ulong Frees { get; set; }
    public ulong UnknownFrees { get; set; }
    public ulong FailedAllocations { get; set; }
    /// <summary>Allocations lost because the outstanding map was full.</summary>
    public ulong MapFullDrops { get; set; }
    /// <summary>Stacks not kept because the stack map was full; the direct caller is still kept.</summary>
    public ulong StackMapFull { get; set; }
    /// <summary>Stacks not captured for another reason (kernel unwinder error, scratch space in use on the CPU).</summary>
    public ulong StackErrors { get; set; }
    /// <summary>Allocator calls whose return was never seen (their result is unknown).</summary>
    public ulong MissedReturns { get; set; }
    /// <summary>Events lost because the kernel ring buffer was full.</summary>
    public ulong RingBufferDrops { get; set; }
    public ulong NestingOverflows { get; set; }
    public ulong PendingErrors { get; set; }
    public ulong SampledOut { get; set; }
    public ulong FilteredOut { get; set; }
    /// <summary>Allocator calls made by the allocator itself (malloc → mmap); deliberately not recorded.</summary>
    public ulong NestedCalls { get; set; }

    /// <summary>
    /// Ring records skipped because their size did not match the C# mirror of struct memleak_event: the loaded
    /// eBPF object and LeakTools.dll were built from different versions of native/memleak.h.
    /// </summary>
    public ulong MismatchedRecords { get; set; }

    /// <summary>Allocations whose outcome is unknown: these may make a report incomplete.</summary>
    public ulong LostAllocations => MapFullDrops + MissedReturns + NestingOverflows + PendingErrors;

    /// <summary>Allocations that keep only their direct caller, for whatever reason.</summary>
    public ulong StacksLost => StackMapFull + StackErrors;

    public bool HasLosses => LostAllocations + StacksLost + RingBufferDrops + MismatchedRecords > 0;

    public override string ToString()
        => $"hits {TotalHits}, allocations {Allocations}, frees {Frees}, lost: map full {MapFullDrops}, stacks lost {StacksLost}, missed returns {MissedReturns}, ring buffer {RingBufferDrops}, mismatched records {MismatchedRecords}";
}
