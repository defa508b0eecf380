using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
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
    private readonly ProcessTree _tree;
    // How each stack read so far was obtained and why it ended (the first reading of equal frames).
    private readonly Dictionary<ulong[], CapturedStack> _origins = new(LeakAggregator.StackComparer.Instance);
    private TargetLauncher? _launcher;
    private readonly bool _leaveRunning;
    private int _untracedReported;
    private readonly List<ProcessEvent> _events = new();

    private TracedTarget(AllocationTracer tracer, ulong startNs, string processName, IStackSymbolizer symbolizer, TargetModules? modules,
        SymbolizerOptions? symbolizerOptions, TargetLauncher? launcher = null, bool leaveRunning = false)
    {
        Tracer = tracer;
        TraceStartNs = startNs;
        ProcessId = tracer.Options.Kernel ? 0 : tracer.Options.ProcessId;
        ProcessName = processName;
        IsKernel = tracer.Options.Kernel;
        _tree = new ProcessTree(TracedProcess.Root(ProcessId, processName, symbolizer, modules, () => !IsKernel && tracer.TargetExited),
            symbolizerOptions ?? new SymbolizerOptions());
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

    /// <summary>
    /// True once the target and every child it was traced through have exited: a command that daemonized (its first
    /// process exits, a child goes on) is traced until the child exits too.
    /// </summary>
    public bool TargetExited => !IsKernel && Tracer.TargetExited && !_tree.LiveChildren.Any();

    /// <summary>The target's own process has exited (its children may still run).</summary>
    public bool RootExited => !IsKernel && Tracer.TargetExited;

    /// <summary>Set once the target's own exit was told (while children it was traced through still ran).</summary>
    public bool RootExitNoticed { get; set; }

    /// <summary>The target and the children it was traced through.</summary>
    public ProcessTree Tree => _tree;

    /// <summary>Attaches to a running process.</summary>
    public static TracedTarget AttachProcess(AllocationTracerOptions options, int processId, string processName, SymbolizerOptions symbolizerOptions)
    {
        options.ProcessId = processId;
        var tracer = AllocationTracer.Start(options);
        ulong startNs = MonotonicClock.NowNs();
        try
        {
            var (symbolizer, modules) = ProcessSymbols(tracer, symbolizerOptions);
            return new TracedTarget(tracer, startNs, processName, symbolizer, modules, symbolizerOptions);
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
            // ld.so maps the libraries after the exec: the program stops at its entry until their tables are in.
            if (options.CaptureStacks && !options.CountOnly) options.StopAtEntry = ProgramEntry.Find(command[0]);
            tracer = AllocationTracer.Start(options);
            ulong startNs = MonotonicClock.NowNs();
            // The symbolizer's first snapshot shows the paused launcher, not the command: the watcher takes
            // another once the command's own image is mapped.
            (symbolizer, var modules) = ProcessSymbols(tracer, symbolizerOptions);
            var target = new TracedTarget(tracer, startNs, Path.GetFileName(command[0]), symbolizer, modules, symbolizerOptions, launcher, leaveRunning);
            launcher.Resume();
            launcher.WaitForExec(TimeSpan.FromSeconds(10));
            modules.WaitForImage(TargetLauncher.LauncherPath, TimeSpan.FromSeconds(1));
            if (options.StopAtEntry is { } entry) PublishAtEntry(launcher, tracer, modules, entry);
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

    /// <summary>
    /// The launched program stops itself at its entry point (memleak__stop_at_entry), with ld.so's libraries mapped
    /// and none of its own code run: its modules are looked at (unwind tables first) before it goes on, so even its
    /// first allocations have complete stacks. It goes on whatever happens here.
    /// </summary>
    private static void PublishAtEntry(TargetLauncher launcher, AllocationTracer tracer, TargetModules modules, ProgramEntry entry)
    {
        try
        {
            if (launcher.WaitForEntryStop(entry, TimeSpan.FromSeconds(10))) modules.Refresh();
            else tracer.Options.Verbose?.Invoke($"'{entry.Path}' did not stop at its entry point: allocations its first milliseconds make may keep only their direct caller.");
        }
        finally
        {
            // Disarmed first, so no stop can come after the SIGCONT.
            tracer.DisarmEntryStop();
            launcher.ContinueFromEntry();
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
            return new TracedTarget(tracer, startNs, "[kernel]", new KernelStackSymbolizer(symbols), modules: null, symbolizerOptions: null);
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
        // Tables first: until they are in, a new module's allocations keep only their caller.
        if (tracer.UnwindTables is { } tables) modules.Subscribe(tables.Refresh);
        modules.Subscribe(symbols.Refresh);
        return (new UserStackSymbolizer(symbols, () => tracer.TargetExited, AllocatorProbe.UserSpaceSymbols), modules);
    }

    /// <summary>Picks up modules loaded or unloaded since the last call, in every live process. Harmless once they are gone.</summary>
    public void RefreshSymbols() => _tree.RefreshAll();

    /// <summary>
    /// Takes in the forks, execs and exits of the traced processes since the last call: a child gets its symbolizer
    /// while it runs, an exec's old image loses its outstanding blocks (they died with its address space), and what
    /// is not followed is told. <paramref name="verbose"/> and <paramref name="warning"/> receive the messages.
    /// </summary>
    public void PollProcesses(Action<string> verbose, Action<string> warning)
    {
        if (IsKernel) return;
        _events.Clear();
        Tracer.ReadProcessEvents(_events);
        ulong nowNs = MonotonicClock.NowNs();
        _tree.RefreshYoung(nowNs);
        WarnAboutImagesWithoutLibrary(nowNs, warning);
        if (_events.Count == 0) return;
        foreach (var e in _events)
        {
            if (e.Kind == ProcessEventKind.Fork)
                verbose($"process {e.ParentProcessId} forked process {e.ProcessId} ({e.Name}): traced.");
        }
        var execs = _tree.Apply(_events);
        var retired = new HashSet<uint>();
        foreach (var (_, _, image) in execs) retired.Add(image);
        var dropped = Tracer.DropImages(retired);
        foreach (var (process, oldName, image) in execs)
        {
            // The -Command launcher's own exec of the command is no news.
            if (image == 0 && IsLaunched) continue;
            var (count, bytes) = dropped.GetValueOrDefault(image);
            verbose(Tracer.Options.TrackOutstanding
                ? $"process {process.ProcessId} ({oldName}) exec'd {process.Name}: dropped the {count} outstanding allocation(s) ({bytes} bytes) of its old image, which died with its address space."
                : $"process {process.ProcessId} ({oldName}) exec'd {process.Name}: the blocks of its old image died with its address space.");
        }
        foreach (var process in _tree.Processes)
        {
            if (process.SymbolsUnavailable is { } why && process.Exited && !process.IsRoot && _announcedUnnamed.Add(process))
                verbose($"{process.Describe()}: its frames are shown as addresses: {why}.");
        }
        var untraced = _tree.UntracedChildren;
        if (untraced.Count > _untracedReported)
        {
            var news = untraced.Skip(_untracedReported).ToList();
            _untracedReported = untraced.Count;
            string which = string.Join(", ", news.Take(10).Select(c => $"{c.ProcessId} (forked by {c.Parent.Describe()})"));
            warning(Tracer.Options.FollowChildren
                ? $"{news.Count} child process(es) not traced, because the table of traced processes is full: {which}."
                : $"{news.Count} child process(es) forked during the trace are not traced: {which}. Add -IncludeChildren to follow the children the target forks.");
        }
    }

    private readonly HashSet<TracedProcess> _announcedUnnamed = new();

    /// <summary>How long after an exec its libraries are surely mapped (ld.so maps them before main).</summary>
    private const ulong LibraryMappedNs = 200_000_000;

    /// <summary>
    /// The probes are in the traced library's code: a process that exec'd an image without it (a static binary,
    /// another libc) makes allocator calls nobody sees from then on. Checked once per exec, while it runs.
    /// </summary>
    private void WarnAboutImagesWithoutLibrary(ulong nowNs, Action<string> warning)
    {
        if (Tracer.Library is not { Inode: not 0 } library) return;
        foreach (var process in _tree.Processes)
        {
            if (process.Execs == 0 || process.LibraryChecked || process.Exited || nowNs - process.LastExecNs < LibraryMappedNs) continue;
            process.LibraryChecked = true;
            if (process.MapsInode(library.Inode) == false)
                warning($"{process.Describe()} exec'd an image that does not map {library.Path}: its allocator calls are not traced from there on.");
        }
    }

    /// <summary>
    /// Reads the outstanding allocations batch by batch, each with its stack, into the aggregator of the process
    /// that made it (<paramref name="aggregatorOf"/>). Many allocations share a stack: each (stack key, caller)
    /// pair is read once and its array shared.
    /// </summary>
    /// <param name="judged">With -Verdict: receives the root process's blocks allocated up to
    /// <paramref name="judgedUpToNs"/>, whatever their age otherwise: the ones its pass judges. Those are not kept in
    /// their sites as well.</param>
    public void ReadOutstanding(Func<TracedProcess, LeakAggregator> aggregatorOf,
        JudgedAllocations? judged = null, ulong judgedUpToNs = 0)
    {
        var stacks = new Dictionary<(ulong, ulong, uint), ulong[]>();
        TracedProcess? last = null;
        uint lastImage = 0;
        LeakAggregator? aggregator = null;
        Tracer.ReadOutstanding(batch =>
        {
            foreach (ref readonly var allocation in batch)
            {
                if (last is null || allocation.Image != lastImage)
                {
                    last = _tree.ProcessOf(allocation.Image, allocation.ProcessId);
                    lastImage = allocation.Image;
                    aggregator = aggregatorOf(last);
                }
                // Per image: whether a value is a return address depends on the code of the process that stored it.
                var key = (allocation.StackKey, allocation.CallerAddress, allocation.Image);
                if (!stacks.TryGetValue(key, out var stack))
                {
                    CapturedStack captured = ReadStack(allocation.StackKey, allocation.CallerAddress, last);
                    stack = captured.Frames;
                    stacks.Add(key, stack);
                    _origins.TryAdd(stack, captured);
                    NoticeUnknownCode(captured);
                }
                var tracked = new TrackedAllocation
                {
                    Address = allocation.Address,
                    Size = allocation.Size,
                    TimestampNs = allocation.TimestampNs,
                    ThreadId = (int)allocation.ThreadId,
                };
                // -Verdict scans the target's own memory: its own blocks are judged (the tree's root in its current image).
                if (judged is not null && last.IsRoot && allocation.TimestampNs <= judgedUpToNs) aggregator!.AddJudged(stack, tracked, judged);
                else aggregator!.Add(stack, tracked);
            }
        });
    }

    /// <summary>
    /// Names the stacks of a sample of the outstanding allocations (the first <paramref name="count"/> of the map)
    /// ahead of a report: the symbol and line tables of the modules they run through are loaded now, and those
    /// stacks named, rather than after the report's window. Returns how many allocations the sample held.
    /// </summary>
    public int NameStacksAhead(int count)
    {
        var named = new HashSet<(ulong, ulong, uint)>();
        int sampled = 0;
        Tracer.ReadSomeOutstanding(count, batch =>
        {
            sampled += batch.Length;
            foreach (ref readonly var allocation in batch)
            {
                if (!named.Add((allocation.StackKey, allocation.CallerAddress, allocation.Image))) continue;
                var process = _tree.ProcessOf(allocation.Image, allocation.ProcessId);
                process.Symbolize(ReadStack(allocation.StackKey, allocation.CallerAddress, process).Frames);
            }
        });
        return sampled;
    }

    /// <summary>How the stack with these frames was obtained and why it ended; null when it was never read here.</summary>
    public CapturedStack? StackOrigin(ulong[] frames) => _origins.TryGetValue(frames, out var captured) ? captured : null;

    /// <summary>
    /// A stack that ended in code the unwind tables do not know: a module may have appeared (dlopen) since they were
    /// last brought up to date. Looks again (not more often than TargetModules allows), so the next allocations
    /// through it are walked whole. No polling: such a stack is the trigger.
    /// </summary>
    private void NoticeUnknownCode(in CapturedStack captured)
    {
        if (captured.End == StackEnd.UnknownCode && Tracer.UnwindTables is not null) _tree.Root.RefreshModulesAfterMiss();
    }

    /// <summary>The stack of one streamed call.</summary>
    public CapturedStack ReadStack(in AllocationRecord record) => ReadStack(record.StackKey, record.CallerAddress, ProcessOf((int)record.ProcessId));

    /// <summary>A stack as the BPF side kept it, cut at the first value that is no return address of its process.</summary>
    private CapturedStack ReadStack(ulong stackKey, ulong caller, TracedProcess process)
        => process.KeepReturnAddresses(Tracer.Stacks.Read(stackKey, caller));

    /// <summary>The traced process with this PID (the target in kernel mode).</summary>
    public TracedProcess ProcessOf(int processId) => IsKernel ? _tree.Root : _tree.Latest(processId) ?? _tree.Root;

    /// <summary>Names the frames of a stack of the target's own process.</summary>
    public StackFrame[] Symbolize(ulong[] stack) => _tree.Root.Symbolize(stack);

    /// <summary>
    /// Detaches every probe. A process we started for -Command is killed if it still runs: it was started
    /// only to be traced, and must never be left paused or orphaned; so are the children it was traced through
    /// (a daemon it started), each named in <paramref name="verbose"/>. Unless it was started to be left
    /// running: then they go on, untraced, and are named too.
    /// </summary>
    public void Dispose(Action<string>? verbose)
    {
        Tracer.Dispose();
        if (_launcher is not null)
        {
            if (!_leaveRunning) _launcher.KillIfRunning();
            foreach (var child in _tree.LiveChildren.ToList())
            {
                if (_leaveRunning)
                {
                    verbose?.Invoke($"{child.Describe()}, started by the command, is left running, untraced (-LeaveRunning).");
                    continue;
                }
                if (KillIfSame(child.ProcessId))
                    verbose?.Invoke($"{child.Describe()}, started by the command, still ran when the trace ended: killed, as the command is.");
            }
            _launcher.Dispose();
            _launcher = null;
        }
        _tree.Dispose();
    }

    public void Dispose() => Dispose(null);

    /// <summary>Kills a live process of the tree (its identity was checked by the caller, through <see cref="TracedProcess.Exited"/>).</summary>
    private static bool KillIfSame(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            process.Kill();
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;   // gone meanwhile
        }
    }
}
