using System;

namespace LeakTools.Bpf;

/// <summary>A libbpf call failed; <see cref="Errno"/> is the positive errno, <see cref="KernelLog"/> the verifier's words if any.</summary>
internal sealed class BpfOperationException : Exception
{
    public int Errno { get; }
    public string? KernelLog { get; }

    public BpfOperationException(string message, int errno, string? kernelLog = null) : base(message)
    {
        Errno = Math.Abs(errno);
        KernelLog = kernelLog;
    }
}
