using System.Runtime.InteropServices;

namespace LeakTools.Analysis;

/// <summary>
/// One allocation that was made while tracing and is not freed yet, with everything a later verdict
/// needs: where it is (to scan the target's memory for pointers into it, valgrind style: definitely,
/// indirectly or possibly lost, still reachable), how big and how old. Who made it is its
/// <see cref="AllocationSite"/>'s stack, shared by all of the site's allocations.
/// A 28-byte struct, packed, because a report may hold millions of them. The blocks a -Verdict pass judges are
/// held once, in <see cref="JudgedAllocations"/>, not as these.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public readonly struct TrackedAllocation
{
    public ulong Address { get; init; }

    public ulong Size { get; init; }

    /// <summary>When it was made, on the tracer's monotonic clock (CLOCK_MONOTONIC, nanoseconds).</summary>
    public ulong TimestampNs { get; init; }

    public int ThreadId { get; init; }
}
