using System;
using System.Runtime.InteropServices;
using LeakTools.Module;

namespace LeakTools.Interop;

/// <summary>
/// The few system calls used directly: bpf(BPF_LINK_CREATE) for multi-uprobe links (libbpf 1.1 has no wrapper),
/// and mmap/munmap for reading ring buffers in place.
/// </summary>
internal static unsafe partial class LinuxSyscalls
{
    static LinuxSyscalls() => NativeLibraryResolver.EnsureRegistered();

    private const long SysBpf = 321;   // x86-64

    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long command, void* attr, uint size);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "close")]
    internal static partial int Close(int fd);

    internal const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    internal static readonly IntPtr MapFailed = new(-1);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial IntPtr Mmap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "munmap")]
    internal static partial int Munmap(IntPtr address, nuint length);

    /// <summary>bpf(2); returns the result or -errno.</summary>
    internal static int Bpf(int command, void* attr, uint size)
    {
        long rc = Syscall(SysBpf, command, attr, size);
        return rc < 0 ? -Marshal.GetLastPInvokeError() : (int)rc;
    }
}
