using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Threading;
using LeakTools.Interop;
using LeakTools.Module;
using LeakTools.Procfs;

namespace LeakTools.Tracing;

/// <summary>
/// Starts a command paused before its first instruction (through native/launcher/leaktools-launch, which
/// SIGSTOPs itself and then execs the command), so a tracer can attach first; <see cref="Resume"/> lets it run.
/// Dispose resumes a still-paused target, so it never stays stopped whatever happens to the caller; if this
/// process dies instead, the launcher's PR_SET_PDEATHSIG(SIGCONT) resumes it. (The kernel sends that signal when
/// the *thread* that started the launcher exits, so call <see cref="StartPaused"/> from a thread that outlives
/// the attach, e.g. the pipeline thread: at worst an early SIGCONT lets the command run before the probes are in.)
/// </summary>
public sealed partial class TargetLauncher : IDisposable
{
    public const string LauncherFileName = "leaktools-launch";
    private const int SigCont = 18;

    private readonly Process _process;
    private int _resumed;

    public int ProcessId { get; }

    /// <summary>The launched process (for its exit code and exit wait).</summary>
    public Process Process => _process;

    static TargetLauncher() => NativeLibraryResolver.EnsureRegistered();

    private TargetLauncher(Process process)
    {
        _process = process;
        ProcessId = process.Id;
    }

    [LibraryImport(LibraryNames.Libc, EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Path of the launcher, next to LeakTools.dll.</summary>
    public static string LauncherPath
        => Path.Combine(Path.GetDirectoryName(typeof(TargetLauncher).Assembly.Location) ?? ".", LauncherFileName);

    /// <summary>
    /// Starts <paramref name="command"/> (program and arguments, no shell) and returns once it is stopped before exec.
    /// <paramref name="workingDirectory"/> is where it runs (a cmdlet passes PowerShell's current location,
    /// which is not the process's current directory).
    /// </summary>
    public static TargetLauncher StartPaused(string[] command, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        if (command is null || command.Length == 0 || string.IsNullOrWhiteSpace(command[0]))
            throw new TracerException("No command to start.", TracerErrorIds.InvalidOptions, ErrorCategory.InvalidArgument, command,
                "Give the program and its arguments, e.g. -Command ./app, --flag.");
        string launcher = LauncherPath;
        if (!File.Exists(launcher))
            throw new TracerException($"The launcher '{launcher}' is missing.", TracerErrorIds.LaunchFailed, ErrorCategory.NotInstalled, launcher,
                "Rebuild the module with build.ps1 (it compiles native/launcher/leaktools-launch.c into bin/).");

        var info = new ProcessStartInfo(launcher) { UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (string arg in command) info.ArgumentList.Add(arg);
        Process process;
        try { process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null."); }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new TracerException($"Cannot start '{launcher}': {e.Message}", TracerErrorIds.LaunchFailed, ErrorCategory.InvalidOperation, command[0],
                "Check that the launcher is executable.", e);
        }

        var launched = new TargetLauncher(process);
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            char state = ReadState(process.Id);
            if (state == 'T') return launched;
            if (state is '\0' or 'Z' or 'X' || process.HasExited)
            {
                launched.Dispose();
                throw new TracerException($"'{command[0]}' exited before it could be traced.", TracerErrorIds.LaunchFailed,
                    ErrorCategory.InvalidOperation, command[0], "Check the command line.");
            }
            if (DateTime.UtcNow > deadline)
            {
                launched.Dispose();
                throw new TracerException($"The launcher for '{command[0]}' did not stop itself in time.", TracerErrorIds.LaunchFailed,
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

    /// <summary>Resumes the target if still paused; the target keeps running (it is not killed).</summary>
    public void Dispose()
    {
        try { Resume(); }
        finally { _process.Dispose(); }
    }

    /// <summary>The state letter of /proc/PID/stat, or '\0' when the process is gone.</summary>
    private static char ReadState(int pid)
    {
        try { return ProcessFiles.TryReadState(pid); }
        catch (IOException) { return '\0'; }
    }
}
