using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using LeakTools.Procfs;

namespace LeakTools.Targets;

/// <summary>
/// The one watcher of a traced process's mappings: modules appear (dlopen, a JIT's perf map) and go while it
/// runs. Its callers decide when to look (the cmdlets' periodic symbol refresh, a stack whose caller no known
/// module holds); each look tells every subscriber (the symbolizer now, an unwind-table loader later) to
/// take a new snapshot. Harmless once the process is gone: what subscribers read while it lived stays theirs.
/// Every look notifies, changed mappings or not: a JIT's perf map grows without a change to the mappings, and
/// the symbolizer re-reads both (cheaply when nothing is new: opened modules and an unchanged perf map are kept).
/// </summary>
internal sealed class TargetModules
{
    /// <summary>How often a stack outside every known module may make us look again.</summary>
    private static readonly TimeSpan MissRefreshPeriod = TimeSpan.FromMilliseconds(50);

    private readonly Func<bool> _exited;
    private readonly List<Action> _subscribers = new();
    private readonly Stopwatch _sinceMissRefresh = Stopwatch.StartNew();

    /// <param name="processId">The traced process.</param>
    /// <param name="exited">True once the process is gone (or its PID belongs to another one).</param>
    public TargetModules(int processId, Func<bool> exited)
    {
        ProcessId = processId;
        _exited = exited;
    }

    public int ProcessId { get; }

    /// <summary>Calls <paramref name="onModulesChanged"/> at each look while the process lives.</summary>
    public void Subscribe(Action onModulesChanged) => _subscribers.Add(onModulesChanged);

    /// <summary>Tells every subscriber to pick up modules loaded or unloaded since the last look.</summary>
    public void Refresh()
    {
        if (_exited()) return;
        foreach (Action subscriber in _subscribers)
        {
            try { subscriber(); }
            catch (Exception) when (_exited())
            {
                // It exited between the check and the read: what was read while it lived still names its stacks.
            }
        }
    }

    /// <summary>
    /// A stack named a module not seen yet: looks again unless the last such look is recent (a caller that no
    /// module will ever hold must not cost a maps read per stack). True when it looked.
    /// </summary>
    public bool RefreshAfterMiss()
    {
        if (_exited() || _sinceMissRefresh.Elapsed < MissRefreshPeriod) return false;
        Refresh();
        _sinceMissRefresh.Restart();
        return true;
    }

    /// <summary>
    /// After a launched command's exec: waits (up to <paramref name="timeout"/>) until the process runs another
    /// image than <paramref name="launcherPath"/> and has it mapped, then looks, so that even a command that exits
    /// at once gets its own binary's symbols. The launcher reports the exec (<see cref="TargetLauncher.WaitForExec"/>)
    /// when the kernel closes its close-on-exec pipe, which is before the new image is mapped: this waits out that
    /// short tail, reading /proc/PID/exe and maps, so it seldom takes more than one look.
    /// </summary>
    public void WaitForImage(string launcherPath, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout && !_exited())
        {
            string? exe = ProcessFile(p => new FileInfo(p).LinkTarget, "exe");
            // exec sets the exe link a moment before it maps the binary: wait for the mapping too.
            if (exe is not null && exe != launcherPath
                && ProcessFile(p => File.ReadAllText(p).Contains(exe, StringComparison.Ordinal) ? exe : null, "maps") is not null)
                break;
            Thread.Sleep(1);
        }
        Refresh();
    }

    private string? ProcessFile(Func<string, string?> read, string name)
    {
        try { return read(ProcessDirectory.PathOf(ProcessId, name)); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
