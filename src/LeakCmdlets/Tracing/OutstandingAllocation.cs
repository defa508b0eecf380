using System.Runtime.InteropServices;

namespace LeakTools.Tracing;

/// <summary>
/// One allocation not freed yet, as read from the kernel map (48 bytes; read in batches, never all held at once).
/// <paramref name="TimestampNs"/> is CLOCK_MONOTONIC, up to one scheduler tick early (see <see cref="MonotonicClock"/>);
/// <paramref name="StackKey"/> is the stack's key in the stack map, 0 when no stack was kept;
/// <paramref name="CallerAddress"/> is the allocator's return address (user mode) or the kernel call site (kernel mode).
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly record struct OutstandingAllocation(ulong Address, ulong Size, ulong TimestampNs, ulong StackKey, ulong CallerAddress, uint ThreadId);
