using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using LeakTools.Bpf;
using LeakTools.Interop;
using LeakTools.Procfs;

namespace LeakTools.Tracing;

/// <summary>
/// Uprobes that follow a process tree at no cost to other processes: each probe is a tracefs uprobe event opened as a
/// perf event of the target with "inherit" set. The kernel copies such an event to every child the target forks,
/// in the fork itself (before the child runs), and the uprobe's filter keeps the breakpoints in the address spaces
/// of the target and its copies only, across their execs. Processes outside the tree never carry the breakpoints.
/// (A multi-uprobe link has no such inheritance: per pid it sees the target alone; per inode every process that maps
/// the library takes its traps. See "Process tree" in docs/engine.md.)
/// The tracefs events are named leaktools_PID_N/...; they are removed on Dispose, after the links are gone, and
/// those a killed PowerShell left behind are removed the next time.
/// </summary>
internal sealed class InheritedUprobes : IDisposable
{
    private static int s_sessions;
    private readonly string _control;
    private readonly string _group;
    private readonly List<string> _events = new();

    /// <summary>Where this session mounted tracefs itself (none was mounted), to unmount on Dispose; else null.</summary>
    private readonly string? _ownMount;

    private InheritedUprobes(string tracefs, string? ownMount)
    {
        Tracefs = tracefs;
        _ownMount = ownMount;
        _control = Path.Combine(tracefs, "uprobe_events");
        _group = string.Create(CultureInfo.InvariantCulture, $"leaktools_{Environment.ProcessId}_{Interlocked.Increment(ref s_sessions)}");
    }

    public string Tracefs { get; }

    /// <summary>
    /// The mounted tracefs with uprobe events; when none is mounted, tracefs mounted for this session on a private
    /// directory (every tracefs mount shows the same events), unmounted on Dispose. Null when neither works (then the
    /// caller attaches per inode).
    /// </summary>
    public static InheritedUprobes? TryCreate()
    {
        UnmountAbandoned();
        foreach (string dir in new[] { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" })
        {
            if (!File.Exists(Path.Combine(dir, "uprobe_events"))) continue;
            return Start(new InheritedUprobes(dir, null));
        }
        string own = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture,
            $"{OwnMountPrefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_sessions)}"));
        try
        {
            Directory.CreateDirectory(own);
            if (LinuxSyscalls.Mount("nodev", own, "tracefs", 0, IntPtr.Zero) == 0 && File.Exists(Path.Combine(own, "uprobe_events")))
                return Start(new InheritedUprobes(own, own));
            LinuxSyscalls.Unmount(own, LinuxSyscalls.UnmountDetach);
            Directory.Delete(own);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    private const string OwnMountPrefix = "leaktools-tracefs-";

    private static InheritedUprobes Start(InheritedUprobes uprobes)
    {
        uprobes.RemoveAbandoned();
        return uprobes;
    }

    /// <summary>Unmounts the tracefs mounts of sessions whose PowerShell was killed before its Dispose.</summary>
    private static void UnmountAbandoned()
    {
        string[] mounts;
        try { mounts = File.ReadAllLines("/proc/self/mounts"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        string prefix = Path.Combine(Path.GetTempPath(), OwnMountPrefix);
        foreach (string mount in mounts)
        {
            string[] fields = mount.Split(' ');
            if (fields.Length < 3 || fields[2] != "tracefs" || !fields[1].StartsWith(prefix, StringComparison.Ordinal)) continue;
            string[] owner = fields[1][prefix.Length..].Split('-');
            if (!int.TryParse(owner[0], out int pid) || pid == Environment.ProcessId || ProcessDirectory.Exists(pid)) continue;
            if (LinuxSyscalls.Unmount(fields[1], LinuxSyscalls.UnmountDetach) == 0)
            {
                try { Directory.Delete(fields[1]); }
                catch (IOException) { }
            }
        }
    }

    /// <summary>
    /// Creates the tracefs event for a probe at <paramref name="offset"/> of <paramref name="path"/>, opens it for
    /// <paramref name="pid"/> and its future children, and attaches <paramref name="program"/> with <paramref name="cookie"/>.
    /// </summary>
    public void Attach(BpfObject bpf, string program, int pid, string path, ulong offset, bool returnProbe, ulong cookie)
    {
        string name = program.Replace("memleak__", "", StringComparison.Ordinal);
        string line = string.Create(CultureInfo.InvariantCulture, $"{(returnProbe ? 'r' : 'p')}:{_group}/{name} {path}:0x{offset:x}");
        // A sampled trace attaches the same probe again each window: the event made the first time serves.
        if (!_events.Contains(name))
        {
            Write(line);
            _events.Add(name);
        }
        ulong id = ulong.Parse(File.ReadAllText(Path.Combine(Tracefs, "events", _group, name, "id")).Trim(), CultureInfo.InvariantCulture);
        var attr = new PerfEventAttr
        {
            Type = PerfEventAttr.TypeTracepoint,
            Size = PerfEventAttr.SizeVer0,
            Config = id,
            SamplePeriod = 1,
            Flags = PerfEventAttr.FlagInherit,
        };
        int fd = LinuxSyscalls.PerfEventOpen(ref attr, pid);
        if (fd < 0)
            throw new BpfOperationException($"Cannot open the uprobe event {_group}/{name} for process {pid}: {ErrnoMessage.Describe(-fd)}.", -fd);
        bpf.AttachPerfEvent(program, fd, returnProbe, cookie);
    }

    /// <summary>Removes this session's events; call it once the links that use them are destroyed.</summary>
    public void Dispose()
    {
        foreach (string name in _events)
        {
            try { Write($"-:{_group}/{name}"); }
            catch (IOException) { }   // already gone, or still busy: the next session removes it
        }
        _events.Clear();
        if (_ownMount is not null && LinuxSyscalls.Unmount(_ownMount, LinuxSyscalls.UnmountDetach) == 0)
        {
            try { Directory.Delete(_ownMount); }
            catch (IOException) { }
        }
    }

    /// <summary>Events of LeakTools sessions whose PowerShell is gone (killed before its Dispose).</summary>
    private void RemoveAbandoned()
    {
        string[] lines;
        try { lines = File.ReadAllLines(_control); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (string line in lines)
        {
            // "p:leaktools_123_1/malloc_enter /path:0x..."
            int colon = line.IndexOf(':');
            int space = line.IndexOf(' ');
            if (colon < 0 || space < colon) continue;
            string qualified = line[(colon + 1)..space];
            string[] parts = qualified.Split('/', 2)[0].Split('_');
            if (parts.Length != 3 || parts[0] != "leaktools" || !int.TryParse(parts[1], out int owner)) continue;
            if (owner == Environment.ProcessId || ProcessDirectory.Exists(owner)) continue;
            try { Write($"-:{qualified}"); }
            catch (IOException) { }
        }
    }

    /// <summary>One command to uprobe_events, appended (opening it with truncation would remove every uprobe event).</summary>
    private void Write(string command)
    {
        using var stream = new FileStream(_control, FileMode.Open, FileAccess.Write);
        var bytes = System.Text.Encoding.ASCII.GetBytes(command + "\n");
        stream.Write(bytes);
    }
}
