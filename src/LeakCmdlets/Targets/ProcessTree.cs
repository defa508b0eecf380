using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Procfs;
using LeakTools.Symbols;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// The processes of one trace: the target, and the children it forked while traced (followed or not), as the BPF
/// side's fork, exec and exit events tell them. Each process image (a fork or an exec starts one) names the process
/// its blocks belong to: the "outstanding" map keys every block by its image.
/// </summary>
internal sealed class ProcessTree : IDisposable
{
    /// <summary>How long after its fork or exec a process's modules are looked at on every poll: ld.so maps its libraries then.</summary>
    private const ulong YoungNs = 1_000_000_000;

    private readonly Dictionary<uint, TracedProcess> _byImage = new();
    private readonly List<TracedProcess> _processes = new();
    private readonly SymbolizerOptions _symbolizerOptions;

    public ProcessTree(TracedProcess root, SymbolizerOptions symbolizerOptions)
    {
        Root = root;
        _symbolizerOptions = symbolizerOptions;
        _byImage[0] = root;
        _processes.Add(root);
    }

    public TracedProcess Root { get; }

    /// <summary>Every process traced so far, the target first, in the order they were forked.</summary>
    public IReadOnlyList<TracedProcess> Processes => _processes;

    /// <summary>Children forked by a traced process and not traced (no -IncludeChildren), in order.</summary>
    public List<(TracedProcess Parent, int ProcessId)> UntracedChildren { get; } = new();

    /// <summary>Processes other than the target that still run.</summary>
    public IEnumerable<TracedProcess> LiveChildren => _processes.Where(p => !p.IsRoot && !p.Exited);

    /// <summary>The process a block of <paramref name="image"/> belongs to; a process unknown so far (its events lost) is added.</summary>
    public TracedProcess ProcessOf(uint image, uint processId)
    {
        if (_byImage.TryGetValue(image, out var process)) return process;
        int pid = (int)processId;
        process = Latest(pid) ?? Add(TracedProcess.Child(pid, -1, ProcessDirectory.TryReadComm(pid) ?? "?", _symbolizerOptions));
        _byImage[image] = process;
        return process;
    }

    /// <summary>The most recent traced process with this PID (PIDs are reused), or null.</summary>
    public TracedProcess? Latest(int processId)
    {
        for (int i = _processes.Count - 1; i >= 0; i--)
        {
            if (_processes[i].ProcessId == processId) return _processes[i];
        }
        return null;
    }

    /// <summary>
    /// Takes in the BPF side's events, in order. Returns the execs seen (the process, its name before, the image that
    /// died); forks not followed are added to <see cref="UntracedChildren"/>.
    /// </summary>
    public List<(TracedProcess Process, string OldName, uint OldImage)> Apply(List<ProcessEvent> events)
    {
        var execs = new List<(TracedProcess, string, uint)>();
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case ProcessEventKind.Fork:
                    _byImage[e.Image] = Add(TracedProcess.Child(e.ProcessId, e.ParentProcessId, e.Name, _symbolizerOptions));
                    _byImage[e.Image].LastExecNs = e.TimestampNs;
                    break;
                case ProcessEventKind.Exec:
                {
                    var process = _byImage.GetValueOrDefault(e.PreviousImage) ?? Latest(e.ProcessId);
                    if (process is null) break;
                    string oldName = process.Name;
                    process.Name = e.Name;
                    process.LastExecNs = e.TimestampNs;
                    process.Execs++;
                    process.LibraryChecked = false;
                    process.ForgetNames();
                    process.RefreshSymbols();
                    _byImage[e.Image] = process;
                    execs.Add((process, oldName, e.PreviousImage));
                    break;
                }
                case ProcessEventKind.Exit:
                    (_byImage.GetValueOrDefault(e.Image) ?? Latest(e.ProcessId))?.MarkExited();
                    break;
                case ProcessEventKind.UntracedFork:
                    var parent = _byImage.GetValueOrDefault(e.PreviousImage) ?? Latest(e.ParentProcessId) ?? Root;
                    UntracedChildren.Add((parent, e.ProcessId));
                    break;
            }
        }
        return execs;
    }

    /// <summary>Looks at the modules of processes that forked or exec'd within the last second, while their libraries get mapped.</summary>
    public void RefreshYoung(ulong nowNs)
    {
        foreach (var process in _processes)
        {
            if (process.LastExecNs != 0 && nowNs - process.LastExecNs < YoungNs && !process.Exited) process.RefreshSymbols();
        }
    }

    /// <summary>Looks at every live process's modules.</summary>
    public void RefreshAll()
    {
        foreach (var process in _processes)
        {
            if (!process.Exited) process.RefreshSymbols();
        }
    }

    private TracedProcess Add(TracedProcess process)
    {
        _processes.Add(process);
        return process;
    }

    public void Dispose()
    {
        foreach (var process in _processes) process.Dispose();
    }
}
