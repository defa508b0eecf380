using System.Runtime.InteropServices;
using LeakTools.Module;

namespace LeakTools.Interop;

/// <summary>The few raw system calls libbpf 1.1 has no wrapper for (bpf(BPF_LINK_CREATE) for multi-uprobe links).</summary>
internal static unsafe partial class LinuxSyscalls
{
    static LinuxSyscalls() => NativeLibraryResolver.EnsureRegistered();

    private const long SysBpf = 321;   // x86-64

    [LibraryImport(LibraryNames.Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long command, void* attr, uint size);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "close")]
    internal static partial int Close(int fd);

    /// <summary>bpf(2); returns the result or -errno.</summary>
    internal static int Bpf(int command, void* attr, uint size)
    {
        long rc = Syscall(SysBpf, command, attr, size);
        return rc < 0 ? -Marshal.GetLastPInvokeError() : (int)rc;
    }
}
