using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Threading;
using LeakTools.Interop;
using LeakTools.Module;
using LeakTools.Procfs;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// Starts a command paused before its first instruction (through native/launcher/leaktools-launch, which
/// SIGSTOPs itself and then execs the command), so a tracer can attach first; <see cref="Resume"/> lets it run
/// and <see cref="WaitForExec"/> turns a failed exec into an error.
/// Dispose resumes a still-paused target, so it never stays stopped whatever happens to the caller; if this
/// process dies instead, the launcher's PR_SET_PDEATHSIG(SIGCONT) resumes it. Unless started to be left running,
/// the command then dies with this process: the launcher sets PR_SET_PDEATHSIG(SIGKILL) just before its exec.
/// The kernel sends both signals when the *thread* that started the launcher exits, so call
/// <see cref="StartPaused"/> from a thread that outlives the trace, e.g. the pipeline thread that runs it.
/// </summary>
public sealed partial class TargetLauncher : IDisposable
{
    public const string LauncherFileName = "leaktools-launch";
    private const int SigCont = 18;
    private const int OpenReadOnly = 0, OpenNonBlocking = 0x800, OpenCloseOnExec = 0x80000;
    private const int CloseOnExecFlag = 0x80000;   // O_CLOEXEC in /proc/PID/fdinfo "flags:" (octal 02000000)
    private const int AccessModeMask = 3, WriteOnly = 1;
    private const short PollIn = 1;

    private readonly Process _process;
    private readonly string _program;
    private int _statusFd = -1;
    private int _resumed;

    public int ProcessId { get; }

    /// <summary>The launched process (for its exit code and exit wait).</summary>
    public Process Process => _process;

    static TargetLauncher() => NativeLibraryResolver.EnsureRegistered();

    private TargetLauncher(Process process, string program)
    {
        _process = process;
        _program = program;
        ProcessId = process.Id;
    }

    [LibraryImport(LibraryNames.Libc, EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, void* buffer, nuint count);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>Path of the launcher, next to LeakTools.dll.</summary>
    public static string LauncherPath
        => Path.Combine(Path.GetDirectoryName(typeof(TargetLauncher).Assembly.Location) ?? ".", LauncherFileName);

    /// <summary>
    /// Starts <paramref name="command"/> (program and arguments, no shell) and returns once it is stopped before exec.
    /// <paramref name="workingDirectory"/> is where it runs (a cmdlet passes PowerShell's current location,
    /// which is not the process's current directory). Unless <paramref name="leaveRunning"/>, the command is
    /// killed when the thread that calls this (or this whole process) dies.
    /// </summary>
    public static TargetLauncher StartPaused(string[] command, TimeSpan? timeout = null, string? workingDirectory = null, bool leaveRunning = false)
    {
        if (command is null || command.Length == 0 || string.IsNullOrWhiteSpace(command[0]))
            throw new TracerException("No command to start.", ErrorIds.InvalidOptions, ErrorCategory.InvalidArgument, command,
                "Give the program and its arguments, e.g. -Command ./app, --flag.");
        string launcher = LauncherPath;
        if (!File.Exists(launcher))
            throw new TracerException($"The launcher '{launcher}' is missing.", ErrorIds.LaunchFailed, ErrorCategory.NotInstalled, launcher,
                "Rebuild the module with build.ps1 (it compiles native/launcher/leaktools-launch.c into bin/).");

        var info = new ProcessStartInfo(launcher) { UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        if (leaveRunning) info.ArgumentList.Add("--leave-running");
        info.ArgumentList.Add("--");
        foreach (string arg in command) info.ArgumentList.Add(arg);
        Process process;
        try { process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null."); }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new TracerException($"Cannot start '{launcher}': {e.Message}", ErrorIds.LaunchFailed, ErrorCategory.InvalidOperation, command[0],
                "Check that the launcher is executable.", e);
        }

        var launched = new TargetLauncher(process, command[0]);
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            char state = ReadState(process.Id);
            if (state == 'T')
            {
                launched.OpenStatusPipe();
                return launched;
            }
            if (state is '\0' or 'Z' or 'X' || process.HasExited)
            {
                launched.Dispose();
                throw new TracerException($"'{command[0]}' exited before it could be traced.", ErrorIds.LaunchFailed,
                    ErrorCategory.InvalidOperation, command[0], "Check the command line.");
            }
            if (DateTime.UtcNow > deadline)
            {
                launched.Dispose();
                throw new TracerException($"The launcher for '{command[0]}' did not stop itself in time.", ErrorIds.LaunchFailed,
                    ErrorCategory.OperationTimeout, command[0], "Try again; the machine may be overloaded.");
            }
            Thread.Sleep(1);
        }
    }

    /// <summary>Lets the command run (the launcher execs it). Idempotent.</summary>
    public void Resume()
    {
        if (Interlocked.Exchange(ref _resumed, 1) != 0) return;
        if (!_process.HasExited) Kill(ProcessId, SigCont);
    }

    /// <summary>
    /// After <see cref="Resume"/>: returns once the launcher has exec'd the command (or died before it could),
    /// throws a <see cref="TracerException"/> (TraceCommandNotExecutable) when its exec failed.
    /// </summary>
    public unsafe void WaitForExec(TimeSpan timeout)
    {
        if (_statusFd < 0) return;
        var deadline = Stopwatch.StartNew();
        var poll = new PollFd { Fd = _statusFd, Events = PollIn };
        while (true)
        {
            int left = (int)Math.Max(0, (timeout - deadline.Elapsed).TotalMilliseconds);
            int ready = Poll(&poll, 1, left);
            if (ready > 0) break;
            if (ready < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR) continue;
            throw new TracerException($"The launcher for '{_program}' did not run it in time.", ErrorIds.LaunchFailed,
                ErrorCategory.OperationTimeout, _program, "Try again; the machine may be overloaded.");
        }
        int errno = 0;
        nint read = Read(_statusFd, &errno, sizeof(int));
        CloseStatusPipe();
        // End of file: the exec closed the pipe (or the launcher died, which its exit shows). Only the launcher writes it.
        if (read == sizeof(int)) throw ExecutableCheck.ExecFailed(_program, errno);
    }

    /// <summary>
    /// After <see cref="WaitForExec"/>, with a one-shot stop probed at <paramref name="entry"/>: returns true once the
    /// command has stopped itself there (call <see cref="ContinueFromEntry"/> when done), false when it runs another
    /// file, exited, or did not stop within <paramref name="timeout"/>.
    /// </summary>
    internal bool WaitForEntryStop(ProgramEntry entry, TimeSpan timeout)
    {
        FileIdentity.TryGetInode(LauncherPath, out ulong launcher);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout)
        {
            char state = ReadState(ProcessId);
            if (state == 'T') return true;
            if (state is '\0' or 'Z' or 'X') return false;
            // The exec maps another file than the one probed (the kernel resolved it otherwise): no stop will come.
            if (FileIdentity.TryGetInode(ProcessDirectory.PathOf(ProcessId, "exe"), out ulong inode)
                && inode != entry.Inode && inode != launcher) return false;
            Thread.Sleep(1);
        }
        return false;
    }

    /// <summary>
    /// Resumes the command after its stop at the entry point. Sent also when no stop was seen (once the probe is
    /// disarmed): a stop signal still pending is then cancelled, so the command is never left stopped.
    /// </summary>
    public void ContinueFromEntry()
    {
        if (!_process.HasExited) Kill(ProcessId, SigCont);
    }

    /// <summary>The command's exit code once it has exited by itself; otherwise null.</summary>
    public int? ExitCode
    {
        get
        {
            try { return _process.HasExited ? _process.ExitCode : null; }
            catch (InvalidOperationException) { return null; }
        }
    }

    /// <summary>Kills the command if it still runs, and reaps it (it is our child).</summary>
    public void KillIfRunning()
    {
        try
        {
            if (_process.HasExited) return;
            _process.Kill();
            _process.WaitForExit(2000);
        }
        catch (InvalidOperationException) { /* exited meanwhile */ }
        catch (System.ComponentModel.Win32Exception) { /* exited meanwhile */ }
    }

    /// <summary>Resumes the target if still paused; the target keeps running (it is not killed).</summary>
    public void Dispose()
    {
        try { Resume(); }
        finally
        {
            CloseStatusPipe();
            _process.Dispose();
        }
    }

    /// <summary>
    /// Opens our read end of the launcher's exec-status pipe, while it is stopped: the pipe's write end is the
    /// launcher's only close-on-exec descriptor (it inherited the others across an exec, so they are not).
    /// If it cannot be opened, a failed exec shows only as the launcher's exit code (126 or 127).
    /// </summary>
    private void OpenStatusPipe()
    {
        string directory = ProcessDirectory.PathOf(ProcessId, "fdinfo");
        try
        {
            foreach (string info in Directory.EnumerateFiles(directory))
            {
                if (!IsCloseOnExecWriteEnd(File.ReadAllText(info))) continue;
                string fd = ProcessDirectory.PathOf(ProcessId, "fd/" + Path.GetFileName(info));
                if (new FileInfo(fd).LinkTarget?.StartsWith("pipe:", StringComparison.Ordinal) != true) continue;
                // A pipe opened through /proc gets the side its open mode asks for: here a new read end.
                _statusFd = Open(fd, OpenReadOnly | OpenNonBlocking | OpenCloseOnExec);
                return;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not readable: exec failures then show as the exit code only, as before.
        }
    }

    private static bool IsCloseOnExecWriteEnd(string fdinfo) =>
        FileDescriptorInfo.ParseFlags(fdinfo) is int flags && (flags & CloseOnExecFlag) != 0 && (flags & AccessModeMask) == WriteOnly;

    private void CloseStatusPipe()
    {
        int fd = Interlocked.Exchange(ref _statusFd, -1);
        if (fd >= 0) LinuxSyscalls.Close(fd);
    }

    /// <summary>The state letter of /proc/PID/stat, or '\0' when the process is gone.</summary>
    private static char ReadState(int pid)
    {
        try { return ProcessFiles.TryReadState(pid); }
        catch (IOException) { return '\0'; }
    }
}
