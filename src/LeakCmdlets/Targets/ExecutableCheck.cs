using System;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Text;
using LeakTools.Interop;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// Judges a program the way a shell and execve would, so a command that cannot run gets a clear error before
/// anything is started: a bare name is the first *executable* file of that name on PATH, and a program must be
/// a regular file that our effective ids may execute, whose #! interpreter (if it is a script) exists and is
/// executable too. What this cannot foresee (a missing ELF loader, a race) the launcher reports after its
/// exec fails, through <see cref="ExecFailed"/>.
/// </summary>
internal static partial class ExecutableCheck
{
    private const int AtEAccess = 0x200;
    private const int ExecuteOk = 1;
    // The kernel reads no more of a #! line than this (BINPRM_BUF_SIZE).
    private const int ShebangLimit = 256;

    [LibraryImport(LibraryNames.Libc, EntryPoint = "faccessat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int FAccessAt(int directoryFd, string path, int mode, int flags);

    /// <summary>
    /// The first executable regular file called <paramref name="name"/> in PATH's directories. When there is none,
    /// the first file of that name that exists (the caller then reports why it cannot run, as bash says
    /// "Permission denied" then); null when there is no such file at all.
    /// </summary>
    public static string? FindOnPath(string name)
    {
        string? firstExisting = null;
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, name);
            int? type = FileType(candidate);
            if (type is null) continue;
            if (type == StatxBuffer.RegularFile && MayExecute(candidate)) return candidate;
            firstExisting ??= candidate;
        }
        return firstExisting;
    }

    /// <summary>Whether <paramref name="path"/> names anything (following symbolic links).</summary>
    public static bool Exists(string path) => FileType(path) is not null;

    /// <summary>Why execve would refuse the existing file <paramref name="path"/>, or null when it looks runnable.</summary>
    public static TracerException? WhyNotExecutable(string path)
    {
        if (NotRunnable(path) is { } problem)
        {
            return new TracerException($"'{path}' {problem.Reason}.", ErrorIds.CommandNotExecutable, problem.Category, path, problem.Remedy);
        }
        if (ReadInterpreter(path) is { } interpreter && NotRunnable(interpreter) is { } interpreterProblem)
        {
            return new TracerException($"'{path}' is a script for '{interpreter}' (its #! line), which {interpreterProblem.Reason}.",
                ErrorIds.CommandNotExecutable, interpreterProblem.Category, path,
                $"Install '{interpreter}' or correct the #! line of '{path}', or start the script through an interpreter that works: -Command <interpreter>, '{path}'.");
        }
        return null;
    }

    /// <summary>The error for an exec of <paramref name="path"/> that failed with <paramref name="errno"/> in the launcher.</summary>
    public static TracerException ExecFailed(string path, int errno)
    {
        var category = errno switch
        {
            (int)Errno.EACCES or (int)Errno.EPERM => ErrorCategory.PermissionDenied,
            (int)Errno.ENOENT => ErrorCategory.ObjectNotFound,
            _ => ErrorCategory.InvalidArgument,
        };
        string reason = Marshal.GetPInvokeErrorMessage(errno);
        string detail = errno == (int)Errno.ENOENT ? " (if the file is still there, its #! interpreter or ELF loader is missing)" : "";
        return new TracerException($"Cannot run '{path}': {reason}{detail}.", ErrorIds.CommandNotExecutable, category, path,
            "Check that the program is executable, built for this machine, that its #! interpreter or ELF loader exists, and that its file system is not mounted noexec.");
    }

    private readonly record struct Problem(string Reason, ErrorCategory Category, string Remedy);

    private static Problem? NotRunnable(string path)
    {
        int? type = FileType(path);
        if (type is null)
        {
            return new Problem("does not exist", ErrorCategory.ObjectNotFound, "");
        }
        if (type == StatxBuffer.Directory)
        {
            return new Problem("is a directory, not a program", ErrorCategory.InvalidArgument, "Give the path of an executable file.");
        }
        if (type != StatxBuffer.RegularFile)
        {
            return new Problem("is not a regular file", ErrorCategory.InvalidArgument, "Give the path of an executable file.");
        }
        if (!MayExecute(path))
        {
            return new Problem("is not executable (permission denied)", ErrorCategory.PermissionDenied,
                $"Make it executable (chmod +x '{path}'), or start it through its interpreter, e.g. -Command sh, '{path}'.");
        }
        return null;
    }

    /// <summary>The absolute interpreter of a #! script; null for anything else (a relative one is left to exec).</summary>
    internal static string? ReadInterpreter(string path)
    {
        var head = new byte[ShebangLimit];
        int length;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            length = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;   // unreadable: exec decides, and the launcher reports its answer
        }
        if (length < 2 || head[0] != '#' || head[1] != '!') return null;
        int end = Array.IndexOf(head, (byte)'\n', 2, length - 2);
        string line = Encoding.UTF8.GetString(head, 2, (end < 0 ? length : end) - 2).Trim(' ', '\t', '\r');
        int space = line.IndexOfAny(new[] { ' ', '\t' });
        string interpreter = space < 0 ? line : line[..space];
        return interpreter.StartsWith('/') ? interpreter : null;
    }

    /// <summary>execve's own test: X_OK for the effective ids (root may run a file with any execute bit; noexec mounts refuse).</summary>
    private static bool MayExecute(string path) => FAccessAt(LinuxSyscalls.AtFdCwd, path, ExecuteOk, AtEAccess) == 0;

    /// <summary>The S_IFMT bits of what <paramref name="path"/> names (links followed), or null when it does not exist.</summary>
    private static int? FileType(string path)
        => LinuxSyscalls.Statx(path, StatxBuffer.TypeField, out var stat) == 0 ? stat.Mode & StatxBuffer.FileTypeMask : null;
}
