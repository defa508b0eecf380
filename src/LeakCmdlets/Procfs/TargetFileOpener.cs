using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LeakTools.Interop;
using Microsoft.Win32.SafeHandles;

namespace LeakTools.Procfs;

/// <summary>
/// Opens the files a traced process names (its libraries, their debug files, its JIT's perf map) without
/// trusting them. The process may be a hostile container:
/// <list type="bullet">
/// <item>A path under /proc/PID/root resolves inside that root, as the process itself would resolve it
/// (openat2 with RESOLVE_IN_ROOT): an absolute symlink or "../.." cannot reach a host file. The kernel's plain
/// lookup would resolve an absolute symlink found there against our own root, the host's.</item>
/// <item>Only a regular file is accepted: a FIFO would block the read forever, a device such as /dev/zero never ends.
/// The open itself is non-blocking, so a FIFO cannot hang it waiting for a writer.</item>
/// <item>Files larger than the caller's cap are refused, so a file cannot make us allocate without bound.</item>
/// </list>
/// Other paths (/proc/PID/map_files entries, which are the exact mapped file, and the host's own debug
/// directories) are opened as they are, with the same file-type and size checks.
/// </summary>
internal static class TargetFileOpener
{
    /// <summary>Largest ELF file (binary, library or separate debug file) read for symbols: 1 GiB.</summary>
    public const long MaxElfFileBytes = 1L << 30;

    /// <summary>Largest JIT perf map read: 256 MiB.</summary>
    public const long MaxPerfMapBytes = 256L << 20;

    private const int ReadFlags = LinuxSyscalls.OpenReadOnly | LinuxSyscalls.OpenCloseOnExec | LinuxSyscalls.OpenNonBlocking | LinuxSyscalls.OpenNoControllingTerminal;

    // "/proc/1234/root" (or /proc/self/root) followed by the path inside that root.
    private static readonly Regex s_processRoot = new(@"^/proc/(?:\d+|self)/root(?=/|$)", RegexOptions.CultureInvariant);

    /// <summary>
    /// Opens <paramref name="path"/> for reading. A path under /proc/PID/root resolves inside that root.
    /// Throws <see cref="FileNotFoundException"/>, <see cref="UnauthorizedAccessException"/> or another
    /// <see cref="IOException"/> (not a regular file, larger than <paramref name="maxBytes"/>).
    /// </summary>
    public static SafeFileHandle Open(string path, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        Match root = s_processRoot.Match(path);
        if (root.Success) return OpenInRoot(root.Value, path[root.Length..], maxBytes);
        int fd = LinuxSyscalls.Open(path, ReadFlags);
        if (fd < 0) throw ErrnoException(Marshal.GetLastPInvokeError(), path);
        return CheckedHandle(fd, path, maxBytes);
    }

    /// <summary>
    /// Opens <paramref name="path"/> inside the directory <paramref name="root"/>, which is "/" for it: no
    /// symlink, absolute or relative, and no ".." leads out of it, and magic links (/proc/PID/fd/N) are refused.
    /// </summary>
    public static SafeFileHandle OpenInRoot(string root, string path, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(path);
        string shown = root.TrimEnd('/') + (path.StartsWith('/') ? path : "/" + path);
        int rootFd = LinuxSyscalls.Open(root, LinuxSyscalls.OpenPathOnly | LinuxSyscalls.OpenDirectory | LinuxSyscalls.OpenCloseOnExec);
        if (rootFd < 0) throw ErrnoException(Marshal.GetLastPInvokeError(), root);
        try
        {
            int fd = LinuxSyscalls.Openat2(rootFd, path.Length == 0 ? "/" : path, (ulong)ReadFlags,
                LinuxSyscalls.ResolveInRoot | LinuxSyscalls.ResolveNoMagicLinks);
            if (fd == -(int)Errno.ENOSYS)
                throw new IOException($"Cannot open '{shown}' safely: this kernel has no openat2 (Linux 5.6 or newer), so a file inside another root is not read.");
            if (fd < 0) throw ErrnoException(-fd, shown);
            return CheckedHandle(fd, shown, maxBytes);
        }
        finally
        {
            LinuxSyscalls.Close(rootFd);
        }
    }

    /// <summary>The file's contents up to the length it has now, at most <paramref name="maxBytes"/> (a file that grows meanwhile is not followed).</summary>
    public static byte[] ReadAll(SafeFileHandle handle, long maxBytes)
    {
        var buffer = new byte[Math.Min(RandomAccess.GetLength(handle), maxBytes)];
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer.AsSpan(done), done);
            if (n <= 0) break; // truncated meanwhile
            done += n;
        }
        return done == buffer.Length ? buffer : buffer[..done];
    }

    /// <summary>Device and inode of an open file.</summary>
    public static (ulong Device, ulong Inode) GetIdentity(SafeFileHandle handle)
    {
        int rc = LinuxSyscalls.Statx((int)handle.DangerousGetHandle(), StatxBuffer.InodeField, out var stat);
        if (rc != 0) throw ErrnoException(-rc, "(open file)");
        return (stat.Device, stat.Inode);
    }

    private static SafeFileHandle CheckedHandle(int fd, string shown, long maxBytes)
    {
        var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        try
        {
            int rc = LinuxSyscalls.Statx(fd, StatxBuffer.TypeField | StatxBuffer.SizeField, out var stat);
            if (rc != 0) throw ErrnoException(-rc, shown);
            if ((stat.Mode & StatxBuffer.FileTypeMask) != StatxBuffer.RegularFile)
                throw new IOException($"'{shown}' is not a regular file ({DescribeType(stat.Mode)}), so it is not read.");
            if (stat.Size > (ulong)maxBytes)
                throw new IOException($"'{shown}' is {stat.Size} bytes, more than the {maxBytes >> 20} MiB read at most from such a file, so it is not read.");
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static string DescribeType(int mode) => (mode & StatxBuffer.FileTypeMask) switch
    {
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xc000 => "a socket",
        _ => "not a plain file",
    };

    private static Exception ErrnoException(int errno, string path)
    {
        string message = $"Cannot open '{path}': {Marshal.GetPInvokeErrorMessage(errno)}.";
        return errno switch
        {
            (int)Errno.ENOENT => new FileNotFoundException(message, path),
            20 => new DirectoryNotFoundException(message),           // ENOTDIR
            (int)Errno.EPERM or (int)Errno.EACCES => new UnauthorizedAccessException(message),
            _ => new IOException(message),                           // ELOOP (a magic link), ENXIO, …
        };
    }
}
