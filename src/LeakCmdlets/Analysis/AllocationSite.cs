namespace LeakTools.Analysis;

/// <summary>The outstanding allocations of one stack: what becomes one MemoryLeak.</summary>
public sealed class AllocationSite
{
    public AllocationSite(ulong[] stack, int index = 0)
    {
        Stack = stack;
        Index = index;
    }

    /// <summary>The shared stack, raw addresses, direct caller first: the stack of every allocation of the site.</summary>
    public ulong[] Stack { get; }

    /// <summary>Its place among its aggregator's sites, in the order they were met (what <see cref="JudgedAllocations"/> refers to).</summary>
    public int Index { get; }

    /// <summary>The allocations themselves, kept so later steps (-IncludeAddresses) can look at each; not the blocks a -Verdict pass judged.</summary>
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
