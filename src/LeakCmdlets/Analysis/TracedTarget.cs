using System;
using System.Collections.Generic;
using StackFrame = LeakTools.Model.StackFrame;
using LeakTools.Model;
using LeakTools.Symbols;
using LeakTools.Tracing;

namespace LeakTools.Analysis;

/// <summary>
/// One traced process (or the kernel) with what it takes to name its stacks: the engine's tracer, a
/// symbolizer created at attach time and refreshed while the target lives (so stacks still resolve after
/// it exits), and the process we started for -Command, if any.
/// </summary>
internal sealed class TracedTarget : IDisposable
{
    private readonly ProcessSymbolizer? _userSymbols;
    private readonly KernelSymbolizer? _kernelSymbols;
    private readonly Dictionary<ulong[], StackFrame[]> _symbolized = new(LeakAggregator.StackComparer.Instance);
    private TargetLauncher? _launcher;
    private readonly bool _leaveRunning;
    private static readonly TimeSpan RetryRefreshPeriod = TimeSpan.FromMilliseconds(50);
    private readonly System.Diagnostics.Stopwatch _lastRetryRefresh = System.Diagnostics.Stopwatch.StartNew();

    private TracedTarget(AllocationTracer tracer, ulong startNs, int processId, string processName, bool kernel,
        ProcessSymbolizer? userSymbols, KernelSymbolizer? kernelSymbols, TargetLauncher? launcher, bool leaveRunning = false)
    {
        _leaveRunning = leaveRunning;
        Tracer = tracer;
        ProcessId = processId;
        ProcessName = processName;
        IsKernel = kernel;
        _userSymbols = userSymbols;
        _kernelSymbols = kernelSymbols;
        _launcher = launcher;
        TraceStartNs = startNs;
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
    public int? LaunchedExitCode
    {
        get
        {
            try { return _launcher is { } l && l.Process.HasExited ? l.Process.ExitCode : null; }
            catch (InvalidOperationException) { return null; }
        }
    }

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
            return new TracedTarget(tracer, startNs, processId, processName, false, new ProcessSymbolizer(processId, symbolizerOptions), null, null);
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
        try
        {
            options.ProcessId = launcher.ProcessId;
            tracer = AllocationTracer.Start(options);
            ulong startNs = MonotonicClock.NowNs();
            var symbols = new ProcessSymbolizer(launcher.ProcessId, symbolizerOptions);
            var target = new TracedTarget(tracer, startNs, launcher.ProcessId, System.IO.Path.GetFileName(command[0]), false, symbols, null, launcher, leaveRunning);
            launcher.Resume();
            launcher.WaitForExec(TimeSpan.FromSeconds(10));
            target.WaitForExec(symbols);
            return target;
        }
        catch
        {
            // Whether or not it may outlive the trace, a command that could not be traced is not left behind.
            tracer?.Dispose();
            Kill(launcher);
            launcher.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The symbolizer's first snapshot shows the paused launcher, not the command: take another as soon as
    /// the command is exec'd, so even a command that exits at once has its own binary's symbols.
    /// </summary>
    private void WaitForExec(ProcessSymbolizer symbols)
    {
        string launcherPath = TargetLauncher.LauncherPath;
        var deadline = DateTime.UtcNow.AddSeconds(1);
        while (DateTime.UtcNow < deadline && !Tracer.TargetExited)
        {
            string? exe = null;
            try { exe = new System.IO.FileInfo(Procfs.ProcessDirectory.PathOf(ProcessId, "exe")).LinkTarget; }
            catch (System.IO.IOException) { }
            catch (UnauthorizedAccessException) { }
            // exec sets the exe link a moment before it maps the binary: wait for the mapping too.
            if (exe is not null && exe != launcherPath && MapsMention(exe)) break;
            System.Threading.Thread.Sleep(1);
        }
        RefreshSymbols();
    }

    private bool MapsMention(string path)
    {
        try { return System.IO.File.ReadAllText(Procfs.ProcessDirectory.PathOf(ProcessId, "maps")).Contains(path, StringComparison.Ordinal); }
        catch (System.IO.IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
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
            return new TracedTarget(tracer, startNs, 0, "[kernel]", true, null, symbols, null);
        }
        catch (UnauthorizedAccessException e)
        {
            // The preflight saw addresses, then kallsyms showed none (kptr_restrict raised meanwhile).
            tracer.Dispose();
            throw new TracerException(e.Message, ErrorIds.MissingCapabilities, System.Management.Automation.ErrorCategory.PermissionDenied,
                KernelSymbolizer.KallsymsPath, "Run with CAP_SYSLOG and kernel.kptr_restrict at 0 or 1.", e);
        }
        catch
        {
            tracer.Dispose();
            throw;
        }
    }

    /// <summary>Picks up libraries loaded since the last call. Harmless once the target is gone.</summary>
    public void RefreshSymbols()
    {
        if (_userSymbols is null || Tracer.TargetExited) return;
        try { _userSymbols.Refresh(); }
        catch (Exception) when (Tracer.TargetExited)
        {
            // It exited between the check and the read: what was read while it lived still names its stacks.
        }
    }

    /// <summary>
    /// Reads the outstanding allocations batch by batch into <paramref name="aggregator"/>, each with its stack.
    /// Many allocations share a stack: each (stack key, caller) pair is read once and its array shared.
    /// </summary>
    public void ReadOutstanding(LeakAggregator aggregator)
    {
        var stacks = new Dictionary<(ulong, ulong), ulong[]>();
        Tracer.ReadOutstanding(batch =>
        {
            foreach (ref readonly var allocation in batch)
            {
                var key = (allocation.StackKey, allocation.CallerAddress);
                if (!stacks.TryGetValue(key, out var stack))
                {
                    stack = ReadStack(allocation);
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

    /// <summary>The stack of one allocation, direct caller first; at least the caller when the stack map lost it.</summary>
    public ulong[] ReadStack(OutstandingAllocation allocation) => IsKernel
        ? StackCapture.Frames(allocation.CallerAddress, Tracer.ReadKernelStack(allocation.StackKey))
        : Tracer.ReadUserStack(allocation);

    /// <summary>The stack of one streamed call.</summary>
    public ulong[] ReadStack(in AllocationRecord record) =>
        ReadStack(new OutstandingAllocation(record.Address, record.Size, record.TimestampNs, record.StackKey, record.CallerAddress, record.ThreadId));

    public StackFrame[] Symbolize(ulong[] stack)
    {
        if (_symbolized.TryGetValue(stack, out var frames)) return frames;
        // Return addresses are looked up inside their call instruction, so a call that ends a function keeps
        // its caller's name and the line is the call's. User stacks start at the allocator's direct caller,
        // whose frame is a return address too (read at the stack pointer on entry).
        if (IsKernel)
        {
            frames = _kernelSymbols?.SymbolizeStack(stack)
                ?? Array.ConvertAll(stack, address => new StackFrame { Address = address, IsKernel = true, Module = KernelSymbolizer.KernelModuleName });
        }
        else
        {
            frames = _userSymbols!.SymbolizeStack(stack, firstIsReturnAddress: true);
            // The direct caller is always real code; outside every known mapping it is in a library loaded since
            // the last snapshot. (Outer frames of code without frame pointers may be garbage: they do not count.)
            if (frames.Length > 0 && frames[0].Module is null && !Tracer.TargetExited)
            {
                if (_lastRetryRefresh.Elapsed >= RetryRefreshPeriod)
                {
                    RefreshSymbols();
                    _lastRetryRefresh.Restart();
                    frames = _userSymbols.SymbolizeStack(stack, firstIsReturnAddress: true);
                }
                // Keep an incomplete answer out of the cache while the process lives: a later snapshot may complete it.
                if (frames[0].Module is null && !Tracer.TargetExited) return frames;
            }
        }
        _symbolized[stack] = frames;
        return frames;
    }

    public TraceLoss ReadLoss() => Tracer.ReadStatistics().ToLoss();

    /// <summary>
    /// Detaches every probe. A process we started for -Command is killed if it still runs: it was started
    /// only to be traced, and must never be left paused or orphaned. Unless it was started to be left
    /// running: then it goes on, untraced.
    /// </summary>
    public void Dispose()
    {
        Tracer.Dispose();
        ((object?)_userSymbols as IDisposable)?.Dispose();
        if (_launcher is not null)
        {
            if (!_leaveRunning) Kill(_launcher);
            _launcher.Dispose();
            _launcher = null;
        }
    }

    /// <summary>Kills a launched command that still runs, and reaps it (it is our child).</summary>
    private static void Kill(TargetLauncher launcher)
    {
        try
        {
            if (launcher.Process.HasExited) return;
            launcher.Process.Kill();
            launcher.Process.WaitForExit(2000);
        }
        catch (InvalidOperationException) { /* exited meanwhile */ }
        catch (System.ComponentModel.Win32Exception) { /* exited meanwhile */ }
    }
}
