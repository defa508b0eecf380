namespace LeakTools.Tracing;

/// <summary>
/// One allocation not freed yet, as read from the kernel map (40 bytes, so a million fit in 40 MB).
/// <paramref name="TimestampNs"/> is CLOCK_MONOTONIC (see <see cref="MonotonicClock"/>); <paramref name="StackId"/>
/// is negative when no stack was captured; <paramref name="CallerAddress"/> is the allocator's return address
/// (user mode) or the kernel call site (kernel mode).
/// </summary>
public readonly record struct OutstandingAllocation(ulong Address, ulong Size, ulong TimestampNs, int StackId, ulong CallerAddress, uint ThreadId);
