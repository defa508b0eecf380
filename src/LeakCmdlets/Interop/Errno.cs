namespace LeakTools.Interop;

/// <summary>
/// The errno values LeakTools tells apart (include/uapi/asm-generic/errno-base.h and errno.h, the same on
/// every Linux architecture LeakTools runs on). libbpf and the bpf syscall report them negated.
/// </summary>
internal enum Errno
{
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    ENXIO = 6,
    E2BIG = 7,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EBUSY = 16,
    EEXIST = 17,
    EINVAL = 22,
    ENOSPC = 28,
    ENOSYS = 38,
    /// <summary>The kernel-internal "operation not supported" some bpf commands return (include/linux/errno.h).</summary>
    ENOTSUPP = 524,
}
