using System;
using System.Runtime.InteropServices;
using LeakTools.Module;

namespace LeakTools.Interop;

/// <summary>
/// The few system calls used directly: bpf(BPF_LINK_CREATE) for multi-uprobe links (libbpf 1.1 has no wrapper),
/// bpf(BPF_PROG_TEST_RUN), statx (glibc's stat wrappers and struct stat vary by version and architecture; the raw
/// call does not), mmap/munmap/madvise for reading ring buffers in place and for the verdict's copy, and open/openat2 for opening a target's files safely.
/// Numbers come from <see cref="SyscallNumbers"/>, chosen by architecture.
/// </summary>
internal static unsafe partial class LinuxSyscalls
{
    static LinuxSyscalls() => NativeLibraryResolver.EnsureRegistered();

    internal const int AtFdCwd = -100;        // AT_FDCWD: a relative path is taken from the working directory
    internal const int AtEmptyPath = 0x1000;  // AT_EMPTY_PATH: with an empty path, the call is about the fd itself

    // syscall(2) reads every argument as a long: one signature per argument shape.
    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long argument1, void* argument2, uint argument3);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, long argument1, string argument2, int argument3, uint argument4, void* argument5);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, long directoryFd, string path, void* how, nuint size);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, void* argument1, int argument2, int argument3, int argument4, ulong argument5);

    private const ulong PerfFlagFdCloexec = 8;   // PERF_FLAG_FD_CLOEXEC

    /// <summary>perf_event_open(2) for one process (every CPU), close-on-exec; the fd, or -errno.</summary>
    internal static int PerfEventOpen(ref PerfEventAttr attr, int pid)
    {
        fixed (PerfEventAttr* a = &attr)
        {
            long rc = Syscall(SyscallNumbers.Current.PerfEventOpen, a, pid, -1, -1, PerfFlagFdCloexec);
            return rc < 0 ? -Marshal.GetLastPInvokeError() : (int)rc;
        }
    }

    /// <summary>mount(2) without data; 0 or -1 with errno set.</summary>
    [LibraryImport(LibraryNames.Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string source, string target, string fileSystemType, ulong flags, IntPtr data);

    internal const int UnmountDetach = 2;   // MNT_DETACH

    /// <summary>umount2(2); 0 or -1 with errno set.</summary>
    [LibraryImport(LibraryNames.Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Unmount(string target, int flags);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "close")]
    internal static partial int Close(int fd);

    internal const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    internal static readonly IntPtr MapFailed = new(-1);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial IntPtr Mmap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "munmap")]
    internal static partial int Munmap(IntPtr address, nuint length);

    /// <summary>madvise(2); 0 or -1 with errno set.</summary>
    [LibraryImport(LibraryNames.Libc, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(IntPtr address, nuint length, int advice);

    internal const int OpenReadOnly = 0, OpenNoControllingTerminal = 0x100, OpenNonBlocking = 0x800,
        OpenDirectory = 0x10000, OpenCloseOnExec = 0x80000, OpenPathOnly = 0x200000;
    internal const ulong ResolveNoMagicLinks = 0x02, ResolveInRoot = 0x10;

    /// <summary>open(2) with a mode of 0 (nothing is created); returns the fd or -1 and sets errno.</summary>
    [LibraryImport(LibraryNames.Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode = 0);

    /// <summary>openat2(2) (struct open_how: flags, mode, resolve; Linux 5.6); returns the fd or -errno.</summary>
    internal static int Openat2(int directoryFd, string path, ulong flags, ulong resolve)
    {
        ulong* how = stackalloc ulong[3] { flags, 0, resolve };
        long rc = Syscall(SyscallNumbers.Current.Openat2, directoryFd, path, how, 3 * sizeof(ulong));
        return rc < 0 ? -Marshal.GetLastPInvokeError() : (int)rc;
    }

    /// <summary>bpf(2) with an attr struct mirrored from union bpf_attr; returns the result or -errno.</summary>
    internal static int Bpf<TAttr>(int command, ref TAttr attr) where TAttr : unmanaged
    {
        fixed (TAttr* pointer = &attr)
        {
            long rc = Syscall(SyscallNumbers.Current.Bpf, command, pointer, (uint)sizeof(TAttr));
            return rc < 0 ? -Marshal.GetLastPInvokeError() : (int)rc;
        }
    }

    /// <summary>statx(2) of <paramref name="path"/> (links followed) for the fields in <paramref name="mask"/>; returns 0 or -errno.</summary>
    internal static int Statx(string path, uint mask, out StatxBuffer buffer) => Statx(AtFdCwd, path, 0, mask, out buffer);

    /// <summary>statx(2) of an open file descriptor (fstat's job, in a layout that is the same on every architecture).</summary>
    internal static int Statx(int fd, uint mask, out StatxBuffer buffer) => Statx(fd, "", AtEmptyPath, mask, out buffer);

    private static int Statx(int directoryFd, string path, int flags, uint mask, out StatxBuffer buffer)
    {
        buffer = default;
        fixed (StatxBuffer* result = &buffer)
        {
            long rc = Syscall(SyscallNumbers.Current.Statx, directoryFd, path, flags, mask, result);
            return rc < 0 ? -Marshal.GetLastPInvokeError() : 0;
        }
    }
}
