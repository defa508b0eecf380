using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using LeakTools.Analysis;
using LeakTools.Model;
using LeakTools.Procfs;
using LeakTools.Symbols;
using LeakTools.Targets;
using LeakTools.Tracing;

namespace LeakTools.Commands;

/// <summary>
/// What Find-MemoryLeak and Watch-Allocation share: the targets (-Id/-Name/-InputObject from the base,
/// plus -Command and -Kernel), the allocation filters, attaching and always detaching, Ctrl+C, and the
/// mapping of engine errors to ErrorRecords.
/// Processes named through the pipeline are collected and traced together in EndProcessing.
/// </summary>
public abstract class AllocationTraceCmdletBase : ProcessTargetCmdletBase, IDisposable
{
    protected const string CommandParameterSet = "Command";
    protected const string KernelParameterSet = "Kernel";

    /// <summary>
    /// A program and its arguments to start and trace from its first instruction. It runs until it exits
    /// or -Duration ends; if it still runs then, it is killed: it was started only to be traced. It dies with
    /// the trace even when PowerShell is killed, unless -LeaveRunning.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = CommandParameterSet)]
    [AllowEmptyString]   // for an empty argument; the program itself is checked by [ValidateCommandLine]
    [ValidateCommandLine]
    public string[]? Command { get; set; }

    /// <summary>
    /// Leave the -Command program running when the trace ends (-Duration, Ctrl+C, or PowerShell killed), untraced,
    /// instead of killing it with the trace.
    /// </summary>
    [Parameter(ParameterSetName = CommandParameterSet)]
    public SwitchParameter LeaveRunning { get; set; }

    /// <summary>
    /// Also trace the children the target forks during the trace (and theirs), from their first instruction and
    /// through their execs. Without it they are not traced, and a warning says how many were forked. -Command always
    /// traces the whole tree it starts.
    /// </summary>
    [Parameter(ParameterSetName = IdParameterSet)]
    [Parameter(ParameterSetName = NameParameterSet)]
    [Parameter(ParameterSetName = InputObjectParameterSet)]
    public SwitchParameter IncludeChildren { get; set; }

    /// <summary>Trace the kernel's allocators (kmalloc, kmem_cache, pages, percpu) instead of a process.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KernelParameterSet)]
    public SwitchParameter Kernel { get; set; }

    /// <summary>How long to trace: wall-clock time from attaching. Numbers are seconds; above 0, at most a year.</summary>
    [Parameter]
    [SecondsTransformation]
    [ValidateInterval(MaximumSeconds = 365 * 86400)]
    public TimeSpan? Duration { get; set; }

    /// <summary>Ignore allocations smaller than this many bytes.</summary>
    [Parameter]
    public ulong MinSize { get; set; }

    /// <summary>Ignore allocations larger than this many bytes.</summary>
    [Parameter]
    public ulong MaxSize { get; set; } = ulong.MaxValue;

    /// <summary>
    /// Record about one allocation in this many (1 = every one). Find-MemoryLeak on a process: allocations are recorded
    /// one second in every SampleRate seconds, the probes attached only then (the low-overhead mode); otherwise one
    /// call in SampleRate at random. Outputs carry the rate; Find-MemoryLeak scales its bytes and counts by it.
    /// </summary>
    [Parameter]
    [ValidateRange(1, uint.MaxValue)]
    public uint SampleRate { get; set; } = 1;

    /// <summary>Trace this allocator library (path or name, e.g. libjemalloc.so.2) instead of libc.</summary>
    [Parameter(ParameterSetName = IdParameterSet)]
    [Parameter(ParameterSetName = NameParameterSet)]
    [Parameter(ParameterSetName = InputObjectParameterSet)]
    [Parameter(ParameterSetName = CommandParameterSet)]
    [ValidateNotNullOrEmpty]
    public string? Library { get; set; }

    /// <summary>Prefix of the allocator symbols in -Library (e.g. "je_" for a prefixed jemalloc).</summary>
    [Parameter(ParameterSetName = IdParameterSet)]
    [Parameter(ParameterSetName = NameParameterSet)]
    [Parameter(ParameterSetName = InputObjectParameterSet)]
    [Parameter(ParameterSetName = CommandParameterSet)]
    public string? SymbolPrefix { get; set; }

    private readonly List<int> _processIds = new();
    private readonly ManualResetEventSlim _stopRequested = new();
    private readonly ConcurrentQueue<string> _verboseMessages = new();
    private readonly List<TracedTarget> _targets = new();

    /// <summary>The attached targets, once <see cref="StartTracing"/> ran.</summary>
    private protected IReadOnlyList<TracedTarget> Targets => _targets;

    protected bool StopRequested => _stopRequested.IsSet;

    /// <summary>-Name never picks this process: its allocations would show up as the target's.</summary>
    protected override bool ExcludesOwnProcess => true;

    private TerminationSignal.Lease? _terminationSignal;

    /// <summary>Checks what no target can fix, then takes SIGTERM over until the cmdlet is disposed.</summary>
    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (MinSize > MaxSize)
        {
            ThrowTerminating(new ArgumentException($"-MinSize {MinSize} is larger than -MaxSize {MaxSize}: no allocation could be traced."),
                ErrorIds.MinSizeAboveMaxSize, ErrorCategory.InvalidArgument, MinSize,
                "Give a -MinSize no larger than -MaxSize, or leave one of the two out.");
        }
        _terminationSignal = TerminationSignal.Take(StopProcessing);
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName is CommandParameterSet or KernelParameterSet) return;
        if (ParameterSetName == NameParameterSet && (Name is null || Name.Length == 0)) return;
        foreach (int pid in ResolveTargetProcessIds())
        {
            if (!_processIds.Contains(pid)) _processIds.Add(pid);
        }
    }

    /// <summary>
    /// Ctrl+C (or SIGTERM, through <see cref="TerminationSignal"/>): only flags the wait loop, which then reports
    /// what it gathered and detaches.
    /// </summary>
    protected override void StopProcessing() => _stopRequested.Set();

    /// <summary>
    /// Whether a <see cref="PipelineStoppedException"/> from a Write call is the user's stop (Ctrl+C, which flags the
    /// pipeline a moment before it calls StopProcessing, or SIGTERM) rather than a downstream command that has all
    /// it wants (Select-Object -First). The latter must end the cmdlet quietly: the exception goes on up.
    /// </summary>
    protected bool IsUserStop => StopRequested || Stopping;

    /// <summary>Waits up to <paramref name="timeout"/>; true when Ctrl+C (or Stop) came.</summary>
    protected bool WaitForStop(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero) timeout = TimeSpan.Zero;
        return _stopRequested.Wait(timeout);
    }

    /// <summary>
    /// Attaches to every target this call names. Per-target failures are non-terminating errors (the rest
    /// are traced); failures no target can overcome (privileges, kernel support) terminate.
    /// Returns false when nothing could be attached.
    /// </summary>
    protected bool StartTracing(bool streamEvents, bool captureStacks)
    {
        // A call without a target never gets here: the default parameter set (Id) makes -Id mandatory, and -Name
        // rejects null and empty values at binding.
        var symbolizerOptions = new SymbolizerOptions { Verbose = message => _verboseMessages.Enqueue(message) };
        switch (ParameterSetName)
        {
            case CommandParameterSet:
                string[]? command = ResolveCommand(Command!);
                if (command is null) break;
                string workingDirectory = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
                // On this (the pipeline) thread, which runs the whole trace: the command's death signal is tied to it.
                TryAttach(command[0], () => TracedTarget.LaunchProcess(NewOptions(streamEvents, captureStacks), command, workingDirectory, symbolizerOptions, LeaveRunning));
                break;
            case KernelParameterSet:
                TryAttach("kernel", () => TracedTarget.AttachKernel(NewOptions(streamEvents, captureStacks)));
                break;
            default:
                foreach (int pid in _processIds)
                {
                    string name = ProcessDirectory.TryReadComm(pid) ?? pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    TryAttach(pid, () => TracedTarget.AttachProcess(NewOptions(streamEvents, captureStacks), pid, name, symbolizerOptions));
                }
                break;
        }
        return _targets.Count > 0;
    }

    /// <summary>
    /// The command with its program as an absolute path: a relative path is relative to PowerShell's current
    /// location (not the process's current directory), a bare name is the first executable of that name on PATH,
    /// as a shell would find it. Null, with an error written, when there is no such program or it cannot run.
    /// </summary>
    private string[]? ResolveCommand(string[] command)
    {
        string program = command[0];
        string? resolved = program.Contains('/')
            ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(program)
            : ExecutableCheck.FindOnPath(program);
        if (resolved is null || !ExecutableCheck.Exists(resolved))
        {
            WriteNonTerminatingError(new System.IO.FileNotFoundException($"Cannot find the program '{program}' to start."),
                ErrorIds.TraceCommandNotFound, ErrorCategory.ObjectNotFound, program,
                "Give the program's path (relative to the current location) or a name found on PATH.");
            return null;
        }
        if (ExecutableCheck.WhyNotExecutable(resolved) is { } problem)
        {
            WriteError(NewError(problem, problem.ErrorId, problem.Category, problem.Target, problem.RecommendedAction));
            return null;
        }
        var result = (string[])command.Clone();
        result[0] = resolved;
        return result;
    }

    private void TryAttach(object target, Func<TracedTarget> attach)
    {
        try
        {
            var traced = attach();
            _targets.Add(traced);
            // The engine's verbose messages already name each probe site it chose and why.
            FlushVerbose();
        }
        catch (TracerException ex)
        {
            FlushVerbose();
            WriteTracerError(ex, target);
        }
        catch (ArgumentException) when (target is int pid && !ProcessDirectory.Exists(pid))
        {
            // Gone between being named and being attached to (the symbolizer could not read its maps).
            WriteProcessExited(pid);
        }
        catch (DllNotFoundException ex)
        {
            ThrowTerminating(ex, ErrorIds.LibbpfMissing, ErrorCategory.NotInstalled, Interop.LibraryNames.LibbpfSoname,
                "Install libbpf (apt-get install libbpf1), or point LEAKTOOLS_LIBBPF at libbpf.so.1.");
        }
    }

    /// <summary>
    /// Engine errors keep the engine's id, category, target and remedy. Those about the machine or the session
    /// (capabilities, kernel features, libbpf) stop the command; a target that cannot be traced (access refused,
    /// a kernel thread, no allocator) is one non-terminating error, and the other targets are traced.
    /// </summary>
    protected void WriteTracerError(TracerException ex, object fallbackTarget)
    {
        var record = NewError(ex, ex.ErrorId, ex.Category, ex.Target ?? fallbackTarget, ex.RecommendedAction);
        if (ErrorIds.IsMachineWide(ex.ErrorId)) ThrowTerminatingError(record);
        WriteError(record);
    }

    /// <summary>True when -SampleRate samples by time windows (<see cref="AllocationTracerOptions.DutyCycleRate"/>) rather than by call.</summary>
    private protected virtual bool SamplesByWindows => false;

    private bool SampleWindows => SamplesByWindows && ParameterSetName != KernelParameterSet && SampleRate > 1;

    private AllocationTracerOptions NewOptions(bool streamEvents, bool captureStacks) => new()
    {
        LibraryPath = Library,
        SymbolPrefix = SymbolPrefix,
        StreamEvents = streamEvents,
        CaptureStacks = captureStacks,
        // A stream needs no outstanding map (frees learn their size from the streamed allocations): two hash-map
        // operations fewer in every traced malloc/free pair.
        TrackOutstanding = !streamEvents,
        MinSize = MinSize,
        MaxSize = MaxSize,
        SampleRate = SampleWindows ? 1 : SampleRate,
        DutyCycleRate = SampleWindows ? SampleRate : 0,
        // A command is traced with everything it starts (a shell's children, a daemon's child).
        FollowChildren = ParameterSetName == CommandParameterSet || IncludeChildren,
        // Called from the engine on whatever thread it is on; written out from the pipeline thread.
        Verbose = message => _verboseMessages.Enqueue(message),
    };

    /// <summary>Writes the engine's queued verbose messages; once stopping, PowerShell takes none, so they are dropped.</summary>
    protected void FlushVerbose()
    {
        while (_verboseMessages.TryDequeue(out var message))
        {
            if (!StopRequested) WriteVerbose(message);
        }
    }

    private protected static string Describe(TracedTarget target) =>
        target.IsKernel ? "kernel" : $"process {target.ProcessId} ({target.ProcessName})";

    /// <summary>
    /// Takes in each target's forks, execs and exits since the last call (see <see cref="TracedTarget.PollProcesses"/>)
    /// and writes what they mean. Call it from the pipeline thread, often: a child's modules are read while it runs.
    /// </summary>
    protected void PollProcesses()
    {
        foreach (var target in _targets) target.PollProcesses(_verboseMessages.Enqueue, WriteWarning);
        FlushVerbose();
    }

    /// <summary>Whether any target follows children: its processes come and go, so they are polled often.</summary>
    protected bool FollowsChildren => ParameterSetName == CommandParameterSet || IncludeChildren;

    /// <summary>
    /// Warns once about a process that exited under the trace (one we started for -Command is expected
    /// to). Returns true when every target is done.
    /// </summary>
    protected bool NoticeExitedTargets()
    {
        bool allExited = true;
        foreach (var target in _targets)
        {
            if (target.RootExited && !target.RootExitNoticed && !target.TargetExited)
            {
                target.RootExitNoticed = true;
                var live = target.Tree.LiveChildren.ToList();
                WriteVerbose($"{Describe(target)} exited; the trace goes on through the {live.Count} process(es) it was traced through that still run: "
                    + string.Join(", ", live.Select(p => p.Describe())) + ".");
            }
            if (!target.TargetExited) { allExited = false; continue; }
            if (target.ExitNoticed || StopRequested) continue;
            target.ExitNoticed = true;
            if (!target.IsLaunched)
            {
                WriteWarning($"{Describe(target)} exited while it was traced; reporting what was gathered until then.");
            }
            else if (target.LaunchedExitCode is int code && code != 0)
            {
                WriteWarning($"{Describe(target)} exited with code {code}.");
            }
        }
        return allExited;
    }

    /// <summary>Warns about data lost since the last warning: a trace that dropped data must say so.</summary>
    private protected void WarnAboutLoss(TracedTarget target, TraceLoss loss)
    {
        // The advice speaks of the kinds that grew since the last warning: each means something else.
        var grown = loss.Since(target.WarnedLoss);
        if (!grown.IsEmpty)
        {
            WriteWarning($"{Describe(target)}: the trace lost data ({loss}). {LossAdvice(grown)}");
            target.WarnedLoss = loss;
        }
    }

    /// <summary>What each kind of loss in <paramref name="grown"/> means for this cmdlet's output, and what to do about it.</summary>
    protected abstract string LossAdvice(TraceLoss grown);

    protected void RefreshSymbols()
    {
        foreach (var target in _targets) target.RefreshSymbols();
    }

    /// <summary>Detaches everything (and ends a -Command process). Safe to call more than once.</summary>
    protected void StopTracing()
    {
        foreach (var target in _targets)
        {
            try { target.Dispose(_verboseMessages.Enqueue); }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Detaching the others matters more than this one's complaint.
                _verboseMessages.Enqueue($"Detaching from {Describe(target)} failed: {ex.Message}");
            }
        }
        _targets.Clear();
    }

    /// <summary>PowerShell disposes the cmdlet on every way out of the pipeline, including Ctrl+C and errors.</summary>
    public void Dispose()
    {
        StopTracing();
        // Last: after a SIGTERM this ends the process once everything is detached.
        _terminationSignal?.Dispose();
        _stopRequested.Dispose();
        GC.SuppressFinalize(this);
    }
}
