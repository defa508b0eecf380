using System;
using LeakTools.Model;

namespace LeakTools.Procfs;

/// <summary>
/// Builds the per-process memory summary from stat, status, cmdline and smaps_rollup. Pss and Uss need
/// ptrace-level access: when that is denied the summary keeps them null and counts the denial, so that a
/// caller without root sees one warning, not one error per process.
/// </summary>
public sealed class ProcessMemoryReader
{
    private readonly long _memTotal;

    public ProcessMemoryReader(long memTotal) => _memTotal = memTotal;

    /// <summary>Processes whose Pss/Uss were left null because smaps_rollup was not readable.</summary>
    public int PssDeniedCount { get; private set; }

    /// <summary>
    /// The summary, or null when the process is gone, or has no user memory: then <paramref name="withoutMemory"/>
    /// is its stat (a kernel thread or a zombie; see <see cref="ProcessStat.DescribeWithoutMemory"/>).
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">stat or status is not readable (hidepid).</exception>
    public ProcessMemoryInfo? TryRead(int pid, out ProcessStat? withoutMemory)
    {
        withoutMemory = null;
        ProcessStat? stat = ProcessFiles.TryReadStat(pid);
        if (stat is null) return null;
        if (stat.IsKernelThread || stat.IsZombie)
        {
            withoutMemory = stat;
            return null;
        }
        ProcessStatus? status = ProcessFiles.TryReadStatus(pid);
        string? commandLine = ProcessFiles.TryReadCommandLine(pid);
        if (status is null || commandLine is null) return null;

        var info = new ProcessMemoryInfo
        {
            Timestamp = DateTime.Now,
            Id = pid,
            Name = stat.Comm,
            CommandLine = commandLine,
            Rss = status.VmRSS ?? 0,
            RssAnon = status.RssAnon,
            RssFile = status.RssFile,
            RssShmem = status.RssShmem,
            Swap = status.VmSwap,
            Vsz = status.VmSize ?? 0,
            Threads = status.Threads,
            StartTicks = stat.StartTime,
        };
        info.MemoryPercent = _memTotal > 0 ? 100.0 * info.Rss / _memTotal : 0;

        try
        {
            MemoryMapping? rollup = ProcessFiles.TryReadSmapsRollup(pid);
            if (rollup is not null)
            {
                info.Pss = rollup.Pss;
                info.Uss = rollup.Private;
            }
            else if (!ProcessDirectory.Exists(pid))
            {
                return null;
            }
        }
        catch (UnauthorizedAccessException)
        {
            PssDeniedCount++;
        }
        return info;
    }
}
