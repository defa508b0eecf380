using System;
using System.Runtime.InteropServices;
using LeakTools.Module;

namespace LeakTools.Interop;

/// <summary>
/// The few system calls used directly: bpf(BPF_LINK_CREATE) for multi-uprobe links (libbpf 1.1 has no wrapper),
/// bpf(BPF_PROG_TEST_RUN), statx for inode numbers (glibc's stat wrappers and struct stat vary by version and
/// architecture; the raw call does not), and mmap/munmap for reading ring buffers in place.
/// </summary>
internal static unsafe partial class LinuxSyscalls
{
    static LinuxSyscalls() => NativeLibraryResolver.EnsureRegistered();

    private const int AtFdCwd = -100;   // AT_FDCWD: a relative path is taken from the working directory

    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long argument1, void* argument2, uint argument3);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, long argument1, string argument2, int argument3, uint argument4, void* argument5);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "close")]
    internal static partial int Close(int fd);

    internal const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    internal static readonly IntPtr MapFailed = new(-1);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial IntPtr Mmap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "munmap")]
    internal static partial int Munmap(IntPtr address, nuint length);

    /// <summary>bpf(2) with an attr struct mirrored from union bpf_attr; returns the result or -errno.</summary>
    internal static int Bpf<TAttr>(int command, ref TAttr attr) where TAttr : unmanaged
    {
        fixed (TAttr* pointer = &attr)
        {
            long rc = Syscall(SyscallNumbers.Current.Bpf, command, pointer, (uint)sizeof(TAttr));
            return rc < 0 ? -Marshal.GetLastPInvokeError() : (int)rc;
        }
    }

    /// <summary>statx(2) of <paramref name="path"/> for the fields in <paramref name="mask"/>; returns 0 or -errno.</summary>
    internal static int Statx(string path, uint mask, out StatxBuffer buffer)
    {
        buffer = default;
        fixed (StatxBuffer* result = &buffer)
        {
            long rc = Syscall(SyscallNumbers.Current.Statx, AtFdCwd, path, 0, mask, result);
            return rc < 0 ? -Marshal.GetLastPInvokeError() : 0;
        }
    }
}
