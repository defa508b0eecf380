using System;
using System.Collections.Generic;
using System.IO;
using LeakTools.Analysis;
using LeakTools.Procfs;
using LeakTools.Stacks;
using LeakTools.Symbols;
using LeakTools.Tracing;
using StackFrame = LeakTools.Model.StackFrame;

namespace LeakTools.Targets;

/// <summary>
/// One process of a traced tree (the target itself, or a child it forked), from its fork to its exit, through its
/// execs: its name, whether it still runs, and the symbolizer that names its stacks (kept current by the watcher of
/// its modules, so they still resolve after it exits).
/// </summary>
internal sealed class TracedProcess : IDisposable
{
    private readonly IStackSymbolizer? _symbolizer;
    private readonly Dictionary<ulong[], CapturedStack> _checked = new(LeakAggregator.StackComparer.Instance);
    private readonly TargetModules? _modules;
    private readonly Func<bool> _gone;
    private readonly Dictionary<ulong[], StackFrame[]> _symbolized = new(LeakAggregator.StackComparer.Instance);
    private bool _exitSeen;

    private TracedProcess(int processId, int parentProcessId, string name, IStackSymbolizer? symbolizer, TargetModules? modules, Func<bool>? gone)
    {
        ProcessId = processId;
        ParentProcessId = parentProcessId;
        Name = name;
        _symbolizer = symbolizer;
        _modules = modules;
        _gone = gone ?? (() => false);
    }

    public int ProcessId { get; }

    /// <summary>The traced process that forked it; 0 for the target itself.</summary>
    public int ParentProcessId { get; }

    public bool IsRoot => ParentProcessId == 0;

    /// <summary>Its name (comm), the new one after an exec.</summary>
    public string Name { get; set; }

    /// <summary>When it last exec'd (monotonic ns); 0 when it has not.</summary>
    public ulong LastExecNs { get; set; }

    /// <summary>How many times it exec'd while traced.</summary>
    public int Execs { get; set; }

    /// <summary>True once its exit was seen, or it is otherwise gone (its PID free or another process's).</summary>
    public bool Exited => _exitSeen || _gone();

    /// <summary>Why its frames may stay unnamed (its modules could not be read); null when they can be named.</summary>
    public string? SymbolsUnavailable { get; private init; }

    public string Describe() => $"process {ProcessId} ({Name})";

    /// <summary>The target itself, with the symbolizer and module watcher made when the trace attached.</summary>
    public static TracedProcess Root(int processId, string name, IStackSymbolizer symbolizer, TargetModules? modules, Func<bool> gone) =>
        new(processId, 0, name, symbolizer, modules, gone);

    /// <summary>
    /// A child the tree forked: its symbolizer is made now, while it runs (it may exit at any time). A child already
    /// gone has none: its frames stay addresses, and <see cref="SymbolsUnavailable"/> says why.
    /// </summary>
    public static TracedProcess Child(int processId, int parentProcessId, string name, SymbolizerOptions options)
    {
        ProcessIdentity? identity = null;
        try { identity = ProcessIdentity.TryCapture(processId); }
        catch (Exception e) when (e is UnauthorizedAccessException or ProcfsFormatException) { }
        Func<bool> gone = identity is { } id ? () => !id.IsSameProcessAlive() : () => true;
        if (identity is null)
            return new TracedProcess(processId, parentProcessId, name, null, null, gone) { SymbolsUnavailable = "it exited before its modules could be read" };
        ProcessSymbolizer symbols;
        try { symbols = new ProcessSymbolizer(processId, options); }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            return new TracedProcess(processId, parentProcessId, name, null, null, gone) { SymbolsUnavailable = $"its modules could not be read ({e.Message})" };
        }
        var modules = new TargetModules(processId, gone);
        modules.Subscribe(symbols.Refresh);
        return new TracedProcess(processId, parentProcessId, name, new UserStackSymbolizer(symbols, gone, AllocatorProbe.UserSpaceSymbols), modules, gone);
    }

    /// <summary>Set once its current image was checked for the traced library (see <see cref="MapsInode"/>).</summary>
    public bool LibraryChecked { get; set; }

    /// <summary>Whether it maps a file with this inode now; null when its maps cannot be read (it exited).</summary>
    public bool? MapsInode(ulong inode)
    {
        try
        {
            foreach (string line in File.ReadLines(ProcessDirectory.PathOf(ProcessId, "maps")))
            {
                if (MapsLine.TryParse(line, out var parsed, out _) && parsed.Inode == inode) return true;
            }
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Its last thread exited.</summary>
    public void MarkExited() => _exitSeen = true;

    /// <summary>Picks up modules loaded or unloaded since the last call (after an exec: a whole new image). Harmless once gone.</summary>
    public void RefreshSymbols() => _modules?.Refresh();

    /// <summary>Looks at the modules again after a stack met code nothing knew (rate-limited by <see cref="TargetModules"/>).</summary>
    public void RefreshModulesAfterMiss() => _modules?.RefreshAfterMiss();

    /// <summary>Names the frames of a stack; equal stacks are named once, unless the answer may still improve.</summary>
    public StackFrame[] Symbolize(ulong[] stack)
    {
        if (_symbolized.TryGetValue(stack, out var frames)) return frames;
        if (_symbolizer is null)
        {
            frames = Array.ConvertAll(stack, address => new StackFrame { Address = address });
            _symbolized[stack] = frames;
            return frames;
        }
        frames = _symbolizer.Symbolize(stack, out bool final);
        // A module not seen yet: look at the process's modules again (not too often), and ask once more.
        if (!final && _modules is not null && _modules.RefreshAfterMiss()) frames = _symbolizer.Symbolize(stack, out final);
        // Keep an incomplete answer out of the cache while the process lives: a later snapshot may complete it.
        if (final) _symbolized[stack] = frames;
        return frames;
    }

    /// <summary>
    /// A stack as the BPF side kept it, cut at the first value that is no return address into this process's code:
    /// stacks that differ only in such garbage are one stack to the aggregator. Checked once per distinct stack,
    /// unless the answer may still change.
    /// </summary>
    public CapturedStack KeepReturnAddresses(CapturedStack stack)
    {
        if (stack.Frames.Length < 2 || _symbolizer is null) return stack;
        if (_checked.TryGetValue(stack.Frames, out CapturedStack known)) return known;
        CapturedStack result = _symbolizer.KeepReturnAddresses(stack, out bool final);
        // A frame outside every known module: look at the process's modules again (not too often), and check once more.
        if (!final && _modules is not null && _modules.RefreshAfterMiss()) result = _symbolizer.KeepReturnAddresses(stack, out final);
        if (final) _checked[stack.Frames] = result;
        return result;
    }

    /// <summary>After an exec the old image's names and code are wrong: nothing cached survives it.</summary>
    public void ForgetNames()
    {
        _symbolized.Clear();
        _checked.Clear();
    }

    public void Dispose() => _symbolizer?.Dispose();
}
