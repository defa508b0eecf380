using System;
using System.Runtime.InteropServices;
using LeakTools.Module;

namespace LeakTools.Interop;

/// <summary>
/// The few system calls used directly: bpf(BPF_LINK_CREATE) for multi-uprobe links (libbpf 1.1 has no wrapper),
/// mmap/munmap for reading ring buffers in place, and open/openat2/fstat for opening a target's files safely.
/// </summary>
internal static unsafe partial class LinuxSyscalls
{
    static LinuxSyscalls() => NativeLibraryResolver.EnsureRegistered();

    private const long SysBpf = 321;   // x86-64
    private const long SysOpenat2 = 437;   // x86-64, Linux 5.6

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

    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long directoryFd, byte* path, void* how, nuint size); // syscall(2) reads every argument as a long

    internal const int OpenReadOnly = 0, OpenNoControllingTerminal = 0x100, OpenNonBlocking = 0x800,
        OpenDirectory = 0x10000, OpenCloseOnExec = 0x80000, OpenPathOnly = 0x200000;
    internal const ulong ResolveNoMagicLinks = 0x02, ResolveInRoot = 0x10;
    internal const int ErrnoNoSystemCall = 38;

    /// <summary>open(2) with a mode of 0 (nothing is created); returns the fd or -1 and sets errno.</summary>
    [LibraryImport(LibraryNames.Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode = 0);

    /// <summary>fstat(2) into a struct stat buffer (144 bytes on x86-64).</summary>
    [LibraryImport(LibraryNames.Libc, EntryPoint = "fstat", SetLastError = true)]
    internal static partial int Fstat(int fd, byte* buffer);

    /// <summary>openat2(2) (struct open_how: flags, mode, resolve); returns the fd or -errno.</summary>
    internal static int Openat2(int directoryFd, string path, ulong flags, ulong resolve)
    {
        ulong* how = stackalloc ulong[3] { flags, 0, resolve };
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = utf8)
        {
            long rc = Syscall(SysOpenat2, directoryFd, p, how, 24);
            return rc < 0 ? -Marshal.GetLastPInvokeError() : (int)rc;
        }
    }

    /// <summary>bpf(2); returns the result or -errno.</summary>
    internal static int Bpf(int command, void* attr, uint size)
    {
        long rc = Syscall(SysBpf, command, attr, size);
        return rc < 0 ? -Marshal.GetLastPInvokeError() : (int)rc;
    }
}
