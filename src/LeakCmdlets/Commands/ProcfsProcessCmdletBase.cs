using System;
using System.IO;
using System.Management.Automation;
using LeakTools.Model;
using LeakTools.Procfs;

namespace LeakTools.Commands;

/// <summary>
/// What the procfs process cmdlets share: one way to turn a failed read of /proc/PID into the right
/// error, Ctrl+C for their waits, and the quiet rule for "every process" — there, processes that vanish
/// or belong to other users are expected, so they cost one summary warning instead of an error each.
/// </summary>
public abstract class ProcfsProcessCmdletBase : ProcessTargetCmdletBase, IDisposable
{
    private int _deniedWhileQuiet;

    internal SamplingWait Wait { get; } = new();

    /// <summary>No -Id, -Name or -InputObject: every process, re-listed at each sample.</summary>
    protected bool IsAllProcesses =>
        ParameterSetName == NameParameterSet && (Name is null || Name.Length == 0);

    /// <summary>The failures of reading /proc/PID that <see cref="ReportReadFailure"/> turns into errors.</summary>
    protected static bool IsReadFailure(Exception e) =>
        e is UnauthorizedAccessException or ProcfsFormatException or IOException;

    /// <summary>Reports why process <paramref name="pid"/> could not be read, with the error that fits.</summary>
    protected void ReportReadFailure(int pid, Exception e)
    {
        switch (e)
        {
            case UnauthorizedAccessException:
                if (IsAllProcesses) _deniedWhileQuiet++;
                else WriteAccessDenied(pid, e);
                break;
            case ProcfsFormatException format:
                WriteNonTerminatingError(format, ErrorIds.ProcfsParseFailed, ErrorCategory.ParserError, pid,
                    ProcfsFormatException.RecommendedAction);
                break;
            case IOException when ProcessFiles.IsGone(e, pid):
                ReportExited(pid);
                break;
            default:
                WriteNonTerminatingError(e, ErrorIds.ProcfsReadFailed, ErrorCategory.ReadError, pid,
                    "Check that /proc is mounted and the process is still running, then try again.");
                break;
        }
    }

    /// <summary>The process went away while we read it: an error for a process the user named, nothing for "every process".</summary>
    protected void ReportExited(int pid)
    {
        if (!IsAllProcesses) WriteProcessExited(pid);
    }

    /// <summary>
    /// A kernel thread or a zombie: no user memory to show. An error for a process the user named (its own id,
    /// so scripts can tell it from a failure); nothing for "every process", where both are expected.
    /// </summary>
    protected void ReportWithoutMemory(ProcessStat stat)
    {
        if (IsAllProcesses) return;
        if (stat.IsKernelThread)
        {
            WriteNonTerminatingError(new InvalidOperationException(stat.DescribeWithoutMemory()),
                ErrorIds.ProcessIsKernelThread, ErrorCategory.InvalidArgument, stat.ProcessId,
                "Name a user-space process; the kernel's own memory use is in Get-VmStat and /proc/meminfo.");
        }
        else
        {
            WriteNonTerminatingError(new InvalidOperationException(stat.DescribeWithoutMemory()),
                ErrorIds.ProcessIsZombie, ErrorCategory.ObjectNotFound, stat.ProcessId,
                $"Nothing is left to read. The zombie goes once its parent (process {stat.ParentProcessId}) waits for it; a parent that never does has a bug.");
        }
    }

    /// <summary>Counts a denial that the caller handled itself, for the summary warning.</summary>
    protected void CountQuietDenial() => _deniedWhileQuiet++;

    /// <summary>Call once at the end: one warning for all the processes that could not be read.</summary>
    protected void WriteDeniedSummary(string whatIsMissing)
    {
        if (_deniedWhileQuiet == 0) return;
        // Privileges help only a session that lacks them; with CAP_SYS_PTRACE, something else confines this one.
        WriteWarning(ProcessAccess.MayReadAnyProcess()
            ? $"{whatIsMissing} for {_deniedWhileQuiet} process(es) whose memory the kernel refuses to show although this session has CAP_SYS_PTRACE: " +
              "a security module or sandbox (Landlock, AppArmor, SELinux, Yama ptrace_scope 3) confines this session. Run outside it to see them."
            : $"{whatIsMissing} for {_deniedWhileQuiet} process(es) whose memory this session may not read " +
              "(other users' or protected processes). Run as root (sudo) or with CAP_SYS_PTRACE to see them.");
        _deniedWhileQuiet = 0;
    }

    /// <summary>
    /// Reads the mappings of <paramref name="pid"/> from smaps and hands each to <paramref name="sink"/> as it is
    /// parsed. Kernel threads and zombies have none: an error for a process the user named. A failed read is reported here.
    /// </summary>
    internal void ReadMappings(int pid, Action<MemoryMapping> sink)
    {
        try
        {
            ProcessStat? stat = ProcessFiles.TryReadStat(pid);
            if (stat is null)
            {
                ReportExited(pid);
                return;
            }
            if (stat.IsKernelThread || stat.IsZombie)
            {
                ReportWithoutMemory(stat);
                return;
            }

            using TextReader? text = ProcessFiles.TryOpenText(pid, "smaps");
            if (text is null)
            {
                ReportExited(pid);
                return;
            }
            var reader = new SmapsReader(text, ProcessDirectory.PathOf(pid, "smaps"))
            {
                ProcessId = pid,
                ProcessName = stat.Comm,
                Timestamp = DateTime.Now,
            };
            while (reader.TryReadNext(out MemoryMapping? mapping))
            {
                sink(mapping);
            }
            // A process that exits mid-read may end its smaps early instead of failing (ESRCH, caught below):
            // only its stat tells, which then shows a zombie, nothing, or another process that took over the PID.
            if (!ProcessIdentity.Of(stat).IsSameProcessAlive()) ReportExited(pid);
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            ReportReadFailure(pid, e);
        }
    }

    protected override void StopProcessing() => Wait.Cancel();

    public void Dispose()
    {
        Wait.Dispose();
        GC.SuppressFinalize(this);
    }
}
