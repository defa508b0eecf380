using System;
using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>The words for an errno, as libc says them, with the number for searching.</summary>
internal static class ErrnoMessage
{
    /// <summary>Describes an errno or a negated one (libbpf and the bpf syscall return -errno).</summary>
    public static string Describe(int error)
    {
        int errno = Math.Abs(error);
        return $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }

    public static string Describe(Errno error) => Describe((int)error);
}
