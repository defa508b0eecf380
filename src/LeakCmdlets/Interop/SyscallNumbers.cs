using System;
using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>
/// Numbers of the system calls LeakTools makes directly, per architecture (arch/x86/entry/syscalls/syscall_64.tbl;
/// include/uapi/asm-generic/unistd.h for arm64). Chosen once from the architecture of this process.
/// </summary>
internal readonly record struct SyscallNumbers(long Bpf, long Statx, long Openat2, long PerfEventOpen)
{
    public static readonly SyscallNumbers X64 = new(Bpf: 321, Statx: 332, Openat2: 437, PerfEventOpen: 298);
    public static readonly SyscallNumbers Arm64 = new(Bpf: 280, Statx: 291, Openat2: 437, PerfEventOpen: 241);

    /// <summary>The table of this process's architecture.</summary>
    public static SyscallNumbers Current { get; } = For(RuntimeInformation.ProcessArchitecture);

    public static SyscallNumbers For(Architecture architecture) => architecture switch
    {
        Architecture.X64 => X64,
        Architecture.Arm64 => Arm64,
        _ => throw new PlatformNotSupportedException($"LeakTools knows the system call numbers of x64 and arm64 only, not of {architecture}."),
    };
}
