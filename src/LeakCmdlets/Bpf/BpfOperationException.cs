using System;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>A libbpf call failed; <see cref="Errno"/> is the positive errno, <see cref="KernelLog"/> the verifier's words if any.</summary>
internal sealed class BpfOperationException : Exception
{
    public int Errno { get; }
    public string? KernelLog { get; }
    /// <summary>True when the kernel refused the programs (verifier, BTF); false for open, settings and attach failures.</summary>
    public bool DuringLoad { get; }

    public BpfOperationException(string message, int errno, string? kernelLog = null, bool duringLoad = false) : base(message)
    {
        Errno = Math.Abs(errno);
        KernelLog = kernelLog;
        DuringLoad = duringLoad;
    }

    public BpfOperationException(string message, Errno errno) : this(message, (int)errno) { }
}
