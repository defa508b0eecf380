using System.Runtime.InteropServices;

namespace LeakTools.Tracing;

/// <summary>
/// One allocation not freed yet, as read from the kernel map (56 bytes; read in batches, never all held at once).
/// <paramref name="TimestampNs"/> is CLOCK_MONOTONIC, up to one scheduler tick early (see <see cref="MonotonicClock"/>);
/// <paramref name="StackKey"/> is the stack's key in the stack map, 0 when no stack was kept;
/// <paramref name="CallerAddress"/> is the allocator's return address (user mode) or the kernel call site (kernel mode);
/// <paramref name="ProcessId"/> and <paramref name="Image"/> say which process of a traced tree made it, and under
/// which of its images (an exec starts a new one); both 0 in kernel mode.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly record struct OutstandingAllocation(ulong Address, ulong Size, ulong TimestampNs, ulong StackKey, ulong CallerAddress, uint ThreadId,
    uint ProcessId = 0, uint Image = 0);
