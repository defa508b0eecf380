namespace LeakTools.Analysis;

/// <summary>
/// One allocation that was made while tracing and is not freed yet, with everything a later verdict
/// needs: where it is (to scan the target's memory for pointers into it, valgrind style: definitely,
/// indirectly or possibly lost, still reachable), how big, how old and who made it.
/// </summary>
public sealed class TrackedAllocation
{
    public ulong Address { get; init; }

    public ulong Size { get; init; }

    /// <summary>When it was made, on the tracer's monotonic clock (CLOCK_MONOTONIC, nanoseconds).</summary>
    public ulong TimestampNs { get; init; }

    public int ThreadId { get; init; }

    /// <summary>The allocating stack as raw addresses, the allocator's direct caller first.</summary>
    public ulong[] Stack { get; init; } = System.Array.Empty<ulong>();
}
