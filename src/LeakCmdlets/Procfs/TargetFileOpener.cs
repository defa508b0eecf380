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

    private const int FileTypeMask = 0xf000, RegularFile = 0x8000;
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
            if (fd == -LinuxSyscalls.ErrnoNoSystemCall)
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

    /// <summary>Device and inode of an open file (fstat).</summary>
    public static unsafe (ulong Device, ulong Inode) GetIdentity(SafeFileHandle handle)
    {
        byte* stat = stackalloc byte[256]; // struct stat is 144 bytes on x86-64
        if (LinuxSyscalls.Fstat((int)handle.DangerousGetHandle(), stat) != 0) throw ErrnoException(Marshal.GetLastPInvokeError(), "(open file)");
        return (*(ulong*)stat, *(ulong*)(stat + 8)); // st_dev, st_ino
    }

    private static unsafe SafeFileHandle CheckedHandle(int fd, string shown, long maxBytes)
    {
        var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        try
        {
            byte* stat = stackalloc byte[256];
            if (LinuxSyscalls.Fstat(fd, stat) != 0) throw ErrnoException(Marshal.GetLastPInvokeError(), shown);
            int mode = *(int*)(stat + 24);  // st_mode (x86-64 layout: dev, ino, nlink, then mode)
            long size = *(long*)(stat + 48); // st_size
            if ((mode & FileTypeMask) != RegularFile)
                throw new IOException($"'{shown}' is not a regular file ({DescribeType(mode)}), so it is not read.");
            if (size > maxBytes)
                throw new IOException($"'{shown}' is {size} bytes, more than the {maxBytes >> 20} MiB read at most from such a file, so it is not read.");
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static string DescribeType(int mode) => (mode & FileTypeMask) switch
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
            2 => new FileNotFoundException(message, path),          // ENOENT
            20 => new DirectoryNotFoundException(message),           // ENOTDIR
            1 or 13 => new UnauthorizedAccessException(message),     // EPERM, EACCES
            _ => new IOException(message),                           // ELOOP (a magic link), ENXIO, …
        };
    }
}
