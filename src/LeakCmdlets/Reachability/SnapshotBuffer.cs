using System;
using System.Runtime.InteropServices;
using LeakTools.Interop;
using LeakTools.Procfs;

namespace LeakTools.Reachability;

/// <summary>
/// The memory a snapshot copies into: one private anonymous mapping, aligned to 2 MiB and marked MADV_HUGEPAGE so
/// that the kernel backs it with transparent huge pages where it can (THP "always" or "madvise", the defaults).
/// The mapping reserves address space for the whole machine's memory (MAP_NORESERVE: nothing is committed until it
/// is touched), so a buffer that has to grow with its target is prefaulted further, never moved.
/// Why all this: on a VM whose hypervisor keeps shadow page tables (this project's PVM guest), each first touch of
/// a 4 KiB page costs an exit of about 14 µs in each of user and kernel mode; for a 1.25 GiB copy that was 13 s of
/// preparation. With 2 MiB pages it is 0.3–5 s (the host backs fresh memory at its own pace), and it is spent while
/// the trace runs. Where THP is off the mapping is used as 4 KiB pages, and where the address space cannot be
/// reserved (strict overcommit) the buffer is mapped at the size asked for.
/// </summary>
internal sealed unsafe class SnapshotBuffer : SafeHandle
{
    private const ulong HugePage = 2UL << 20;
    private const ulong PrefaultChunk = 64UL << 20;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20, MapNoReserve = 0x4000;
    private const int AdviseHugePage = 14;   // MADV_HUGEPAGE

    private readonly nuint _mappedLength;

    private SnapshotBuffer(IntPtr mapping, nuint mappedLength, byte* start, ulong capacity) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(mapping);
        _mappedLength = mappedLength;
        Start = start;
        Capacity = capacity;
    }

    /// <summary>The first byte, 2 MiB aligned.</summary>
    public byte* Start { get; }

    /// <summary>Usable bytes from <see cref="Start"/>.</summary>
    public ulong Capacity { get; }

    /// <summary>How many bytes from <see cref="Start"/> have been touched by <see cref="Prefault"/>.</summary>
    public ulong Prefaulted { get; private set; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>
    /// A buffer of at least <paramref name="bytes"/>; with <paramref name="reserveMachine"/>, of the machine's
    /// memory (or the container's limit) when that is more, as reserved address space.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The kernel refused the mapping.</exception>
    public static SnapshotBuffer Allocate(ulong bytes, bool reserveMachine)
    {
        ulong wanted = RoundUp(Math.Max(bytes, 1));
        if (reserveMachine)
        {
            ulong machine = RoundUp((ulong)Math.Max(0L, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes));
            if (machine > wanted && TryMap(machine, MapNoReserve) is { } reserved) return reserved;
        }
        return TryMap(wanted, 0) ?? throw new OutOfMemoryException(
            $"Could not map {wanted >> 20} MiB for the copy of the target's memory: {ErrnoMessage.Describe(Marshal.GetLastPInvokeError())}.");
    }

    private static SnapshotBuffer? TryMap(ulong capacity, int extraFlags)
    {
        nuint mapped = (nuint)(capacity + HugePage);   // room to align the start
        IntPtr mapping = LinuxSyscalls.Mmap(IntPtr.Zero, mapped, LinuxSyscalls.ProtRead | LinuxSyscalls.ProtWrite,
            MapPrivate | MapAnonymous | extraFlags, -1, 0);
        if (mapping == LinuxSyscalls.MapFailed) return null;
        byte* start = (byte*)(((ulong)mapping + HugePage - 1) & ~(HugePage - 1));
        // Advice only: refused (THP never, or an old kernel), the mapping is still good memory.
        LinuxSyscalls.Madvise((IntPtr)start, (nuint)capacity, AdviseHugePage);
        return new SnapshotBuffer(mapping, mapped, start, capacity);
    }

    private static ulong RoundUp(ulong bytes) => (bytes + HugePage - 1) & ~(HugePage - 1);

    /// <summary>
    /// Touches the bytes up to <paramref name="bytes"/> (at most <see cref="Capacity"/>) that were not touched yet:
    /// each page written once from user mode and once by the kernel (a read from /dev/zero), so that neither the copy
    /// in the pause (kernel) nor the scan after it (user) pays a first touch. Works in 64 MiB steps and returns early,
    /// between two of them, once <paramref name="stop"/> says so.
    /// </summary>
    public void Prefault(ulong bytes, Func<bool>? stop = null)
    {
        ulong end = Math.Min(RoundUp(bytes), Capacity);
        if (Prefaulted >= end) return;
        int zero = LinuxSyscalls.Open("/dev/zero", LinuxSyscalls.OpenReadOnly | LinuxSyscalls.OpenCloseOnExec);
        try
        {
            ulong page = (ulong)ProcessFiles.PageSize;
            while (Prefaulted < end && stop?.Invoke() != true)
            {
                ulong from = Prefaulted, to = Math.Min(end, from + PrefaultChunk);
                for (ulong at = from; at < to; at += page) Start[at] = 0;
                for (ulong at = from; zero >= 0 && at < to;)
                {
                    long read = RemoteMemoryCalls.Pread(zero, Start + at, (nuint)(to - at), 0);
                    if (read <= 0) break;
                    at += (ulong)read;
                }
                Prefaulted = to;
            }
        }
        finally
        {
            if (zero >= 0) LinuxSyscalls.Close(zero);
        }
    }

    protected override bool ReleaseHandle() => LinuxSyscalls.Munmap(handle, _mappedLength) == 0;
}
