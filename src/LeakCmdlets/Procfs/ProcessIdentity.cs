using System;
using System.IO;

namespace LeakTools.Procfs;

/// <summary>
/// One process, not just one PID: the id together with its start time (field 22 of /proc/PID/stat, in
/// clock ticks after boot). A PID is reused once its process is reaped, but a process that takes it over
/// starts later, so comparing start times tells the two apart.
/// </summary>
public readonly record struct ProcessIdentity(int ProcessId, ulong StartTime)
{
    /// <summary>The identity of the process that has <paramref name="pid"/> now, or null when there is none.</summary>
    /// <exception cref="UnauthorizedAccessException">The caller may not read its stat file.</exception>
    /// <exception cref="ProcfsFormatException">The stat file is malformed.</exception>
    public static ProcessIdentity? TryCapture(int pid) =>
        ProcessFiles.TryReadStat(pid) is { } stat ? Of(stat) : null;

    /// <summary>The identity of the process whose stat file <paramref name="stat"/> was read from.</summary>
    public static ProcessIdentity Of(ProcessStat stat) => new(stat.ProcessId, stat.StartTime);

    /// <summary>
    /// True while this very process runs: its PID still shows a process, that process started when this one
    /// did, and it is not a zombie (exited, waiting for its parent to reap it). A stat file we may not read
    /// counts as alive: only a proof of exit ends a trace.
    /// </summary>
    public bool IsSameProcessAlive()
    {
        try { return Matches(ProcessFiles.TryReadStat(ProcessId)); }
        catch (IOException) { return false; }                // gone in the middle of the read
        catch (UnauthorizedAccessException) { return true; }
        catch (ProcfsFormatException) { return true; }
    }

    /// <summary>The comparison behind <see cref="IsSameProcessAlive"/>, on a stat already read (null: no process).</summary>
    public bool Matches(ProcessStat? current) =>
        current is not null
        && current.ProcessId == ProcessId
        && current.StartTime == StartTime
        && current.State is not ('Z' or 'X' or 'x');
}
