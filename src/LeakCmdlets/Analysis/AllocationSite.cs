namespace LeakTools.Analysis;

/// <summary>The outstanding allocations of one stack: what becomes one MemoryLeak.</summary>
public sealed class AllocationSite
{
    public AllocationSite(ulong[] stack) => Stack = stack;

    /// <summary>The shared stack, raw addresses, direct caller first: the stack of every allocation of the site.</summary>
    public ulong[] Stack { get; }

    /// <summary>The allocations themselves, kept so later steps (verdicts, -IncludeAddresses) can look at each.</summary>
    public TrackedAllocationList Allocations { get; } = new();

    public ulong Bytes { get; private set; }

    public ulong OldestTimestampNs { get; private set; } = ulong.MaxValue;

    public int Count => Allocations.Count;

    public void Add(in TrackedAllocation allocation)
    {
        Allocations.Add(allocation);
        Bytes += allocation.Size;
        if (allocation.TimestampNs < OldestTimestampNs) OldestTimestampNs = allocation.TimestampNs;
    }
}
