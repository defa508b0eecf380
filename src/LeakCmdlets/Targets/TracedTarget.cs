using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using StackFrame = LeakTools.Model.StackFrame;
using LeakTools.Analysis;
using LeakTools.Model;
using LeakTools.Stacks;
using LeakTools.Symbols;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// One traced process (or the kernel) with what it takes to name its stacks: the engine's tracer, a stack
/// symbolizer made at attach time and kept current by the watcher of the target's modules (so stacks still
/// resolve after it exits), and the process we started for -Command, if any.
/// </summary>
internal sealed class TracedTarget : IDisposable
{
    private readonly IStackSymbolizer _symbolizer;
    private readonly TargetModules? _modules;
    private readonly Dictionary<ulong[], StackFrame[]> _symbolized = new(LeakAggregator.StackComparer.Instance);
    private TargetLauncher? _launcher;
    private readonly bool _leaveRunning;

    private TracedTarget(AllocationTracer tracer, ulong startNs, string processName, IStackSymbolizer symbolizer, TargetModules? modules,
        TargetLauncher? launcher = null, bool leaveRunning = false)
    {
        Tracer = tracer;
        TraceStartNs = startNs;
        ProcessId = tracer.Options.Kernel ? 0 : tracer.Options.ProcessId;
        ProcessName = processName;
        IsKernel = tracer.Options.Kernel;
        _symbolizer = symbolizer;
        _modules = modules;
        _launcher = launcher;
        _leaveRunning = leaveRunning;
    }

    public AllocationTracer Tracer { get; }

    public int ProcessId { get; }

    public string ProcessName { get; }

    public bool IsKernel { get; }

    /// <summary>True when this cmdlet started the process (-Command): its exit is the natural end, not a surprise.</summary>
    public bool IsLaunched => _launcher is not null;

    /// <summary>
    /// Taken once every probe is attached. Reports leave out allocations recorded before: while the probes
    /// attach one by one, an allocation may be seen and its free (or the realloc that moves it) not.
    /// </summary>
    public ulong TraceStartNs { get; }

    /// <summary>The exit code of a command we started, once it has exited by itself; otherwise null.</summary>
    public int? LaunchedExitCode => _launcher?.ExitCode;

    /// <summary>Set once the exit has been reported, so it is reported once.</summary>
    public bool ExitNoticed { get; set; }

    /// <summary>Loss counters as of the last warning, so only growth is warned about.</summary>
    public TraceLoss WarnedLoss { get; set; } = new();

    public bool TargetExited => !IsKernel && Tracer.TargetExited;

    /// <summary>Attaches to a running process.</summary>
    public static TracedTarget AttachProcess(AllocationTracerOptions options, int processId, string processName, SymbolizerOptions symbolizerOptions)
    {
        options.ProcessId = processId;
        var tracer = AllocationTracer.Start(options);
        ulong startNs = MonotonicClock.NowNs();
        try
        {
            var (symbolizer, modules) = ProcessSymbols(tracer, symbolizerOptions);
            return new TracedTarget(tracer, startNs, processName, symbolizer, modules);
        }
        catch
        {
            tracer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts <paramref name="command"/> paused, attaches, then lets it run, so even the allocations its
    /// first instructions make are seen. The command dies with the trace (when it is disposed, and when this
    /// process or the calling thread dies), unless <paramref name="leaveRunning"/>. Call it from the thread
    /// that runs the trace: see <see cref="TargetLauncher"/>.
    /// </summary>
    public static TracedTarget LaunchProcess(AllocationTracerOptions options, string[] command, string workingDirectory, SymbolizerOptions symbolizerOptions,
        bool leaveRunning = false)
    {
        var launcher = TargetLauncher.StartPaused(command, workingDirectory: workingDirectory, leaveRunning: leaveRunning);
        AllocationTracer? tracer = null;
        IStackSymbolizer? symbolizer = null;
        try
        {
            options.ProcessId = launcher.ProcessId;
            tracer = AllocationTracer.Start(options);
            ulong startNs = MonotonicClock.NowNs();
            // The symbolizer's first snapshot shows the paused launcher, not the command: the watcher takes
            // another once the command's own image is mapped.
            (symbolizer, var modules) = ProcessSymbols(tracer, symbolizerOptions);
            var target = new TracedTarget(tracer, startNs, Path.GetFileName(command[0]), symbolizer, modules, launcher, leaveRunning);
            launcher.Resume();
            launcher.WaitForExec(TimeSpan.FromSeconds(10));
            modules.WaitForImage(TargetLauncher.LauncherPath, TimeSpan.FromSeconds(1));
            return target;
        }
        catch
        {
            // Whether or not it may outlive the trace, a command that could not be traced is not left behind.
            tracer?.Dispose();
            symbolizer?.Dispose();
            launcher.KillIfRunning();
            launcher.Dispose();
            throw;
        }
    }

    /// <summary>Traces the kernel's allocators.</summary>
    public static TracedTarget AttachKernel(AllocationTracerOptions options)
    {
        options.Kernel = true;
        options.ProcessId = 0;
        var tracer = AllocationTracer.Start(options);
        ulong startNs = MonotonicClock.NowNs();
        try
        {
            // Only stacks need kernel symbols; without them, kallsyms (and CAP_SYSLOG) is not needed at all.
            var symbols = options.CaptureStacks ? KernelSymbolizer.Load() : null;
            return new TracedTarget(tracer, startNs, "[kernel]", new KernelStackSymbolizer(symbols), modules: null);
        }
        catch (UnauthorizedAccessException e)
        {
            // The preflight saw addresses, then kallsyms showed none (kptr_restrict raised meanwhile).
            tracer.Dispose();
            throw new TracerException(e.Message, ErrorIds.MissingCapabilities, ErrorCategory.PermissionDenied,
                KernelSymbolizer.KallsymsPath, "Run with CAP_SYSLOG and kernel.kptr_restrict at 0 or 1.", e);
        }
        catch
        {
            tracer.Dispose();
            throw;
        }
    }

    /// <summary>A process's symbolizer, taken now (while it runs), and the watcher that keeps it current.</summary>
    private static (IStackSymbolizer Symbolizer, TargetModules Modules) ProcessSymbols(AllocationTracer tracer, SymbolizerOptions options)
    {
        var symbols = new ProcessSymbolizer(tracer.Options.ProcessId, options);
        var modules = new TargetModules(tracer.Options.ProcessId, () => tracer.TargetExited);
        modules.Subscribe(symbols.Refresh);
        return (new UserStackSymbolizer(symbols, () => tracer.TargetExited), modules);
    }

    /// <summary>Picks up modules loaded or unloaded since the last call. Harmless once the target is gone.</summary>
    public void RefreshSymbols() => _modules?.Refresh();

    /// <summary>
    /// Reads the outstanding allocations batch by batch into <paramref name="aggregator"/>, each with its stack.
    /// Many allocations share a stack: each (stack key, caller) pair is read once and its array shared.
    /// <paramref name="allBlocks"/>, when given, gets every outstanding block, whatever its age (for -Verdict).
    /// </summary>
    public void ReadOutstanding(LeakAggregator aggregator, List<(ulong Address, ulong Size, ulong TimestampNs)>? allBlocks = null)
    {
        var stacks = new Dictionary<(ulong, ulong), ulong[]>();
        Tracer.ReadOutstanding(batch =>
        {
            foreach (ref readonly var allocation in batch)
            {
                allBlocks?.Add((allocation.Address, allocation.Size, allocation.TimestampNs));
                var key = (allocation.StackKey, allocation.CallerAddress);
                if (!stacks.TryGetValue(key, out var stack))
                {
                    stack = Tracer.Stacks.Read(allocation.StackKey, allocation.CallerAddress).Frames;
                    stacks.Add(key, stack);
                }
                aggregator.Add(stack, new TrackedAllocation
                {
                    Address = allocation.Address,
                    Size = allocation.Size,
                    TimestampNs = allocation.TimestampNs,
                    ThreadId = (int)allocation.ThreadId,
                });
            }
        });
    }

    /// <summary>The stack of one streamed call.</summary>
    public CapturedStack ReadStack(in AllocationRecord record) => Tracer.Stacks.Read(record.StackKey, record.CallerAddress);

    /// <summary>Names the frames of a stack; equal stacks are named once, unless the answer may still improve.</summary>
    public StackFrame[] Symbolize(ulong[] stack)
    {
        if (_symbolized.TryGetValue(stack, out var frames)) return frames;
        frames = _symbolizer.Symbolize(stack, out bool final);
        // A module not seen yet: look at the target's modules again (not too often), and ask once more.
        if (!final && _modules is not null && _modules.RefreshAfterMiss()) frames = _symbolizer.Symbolize(stack, out final);
        // Keep an incomplete answer out of the cache while the process lives: a later snapshot may complete it.
        if (final) _symbolized[stack] = frames;
        return frames;
    }

    /// <summary>
    /// Detaches every probe. A process we started for -Command is killed if it still runs: it was started
    /// only to be traced, and must never be left paused or orphaned. Unless it was started to be left
    /// running: then it goes on, untraced.
    /// </summary>
    public void Dispose()
    {
        Tracer.Dispose();
        _symbolizer.Dispose();
        if (_launcher is not null)
        {
            if (!_leaveRunning) _launcher.KillIfRunning();
            _launcher.Dispose();
            _launcher = null;
        }
    }
}
