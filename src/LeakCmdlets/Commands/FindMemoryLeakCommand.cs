using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Threading.Tasks;
using LeakTools.Analysis;
using LeakTools.Model;
using LeakTools.Reachability;
using LeakTools.Targets;
using LeakTools.Tracing;

namespace LeakTools.Commands;

/// <summary>
/// <para type="synopsis">Finds the stacks that hold memory a process allocated and has not freed.</para>
/// Traces the allocator with eBPF for a while, then reports each stack whose allocations are still
/// outstanding and older than -OlderThan, largest first (bcc's memleak, done for PowerShell).
/// </summary>
[Cmdlet(VerbsCommon.Find, "MemoryLeak", DefaultParameterSetName = IdParameterSet)]
[OutputType(typeof(MemoryLeak))]
public sealed class FindMemoryLeakCommand : AllocationTraceCmdletBase
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);
    // Following children: a child's modules are read while it runs, so its forks and execs are taken in often.
    private static readonly TimeSpan ProcessTreeTick = TimeSpan.FromMilliseconds(25);
    // Cheap (maps are re-read, known modules stay open) and frequent, so short-lived libraries are seen.
    private static readonly TimeSpan SymbolRefreshPeriod = TimeSpan.FromMilliseconds(200);

    /// <summary>Report every this often (periodic reports, like `memleak 5 3`). Numbers are seconds.</summary>
    [Parameter]
    [SecondsTransformation]
    [ValidateInterval]
    public TimeSpan? Interval { get; set; }

    /// <summary>Stop after this many reports.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    /// <summary>
    /// Only allocations at least this old count as leaks; younger ones are in flight. Seconds; default 0.5.
    /// Not applied once a -Command program has exited: then everything it never freed is reported.
    /// </summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan OlderThan { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Emit only the largest this many stacks per report (0 = all).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Top { get; set; }

    /// <summary>Fill MemoryLeak.Addresses with each outstanding allocation's address.</summary>
    [Parameter]
    public SwitchParameter IncludeAddresses { get; set; }

    /// <summary>-SampleRate attaches the probes part of the time (a process's allocator; the kernel samples calls).</summary>
    private protected override bool SamplesByWindows => true;

    /// <summary>
    /// At each report, pause the target for a moment, scan its memory for pointers and say which outstanding
    /// allocations are DefinitelyLost, IndirectlyLost, PossiblyLost or still Reachable (valgrind's rules).
    /// </summary>
    [Parameter]
    public SwitchParameter Verdict { get; set; }

    /// <summary>
    /// With -Verdict: the longest the target may be held still (seconds; default 0.5). A pause that needs longer
    /// is let go and its verdicts are Inconclusive.
    /// </summary>
    [Parameter]
    [SecondsTransformation]
    [ValidateRange("00:00:00.001", "00:01:00")]
    public TimeSpan PauseLimit { get; set; } = TimeSpan.FromMilliseconds(500);

    protected override string LossAdvice(TraceLoss grown)
    {
        var advice = new List<string>();
        if (grown.MapFull != 0 || grown.MissedReturns != 0 || grown.RingBufferDrops != 0)
            advice.Add("Some allocations were not recorded, so reported bytes and counts are a lower bound: trace fewer with -SampleRate or -MinSize.");
        if (grown.StacksLost != 0)
            advice.Add("The stack map was full: the allocations of new stacks are reported under their direct caller only (their bytes and counts are complete); -MinSize or a shorter trace meets fewer stacks.");
        return string.Join(" ", advice);
    }

    private ReportSchedule? _schedule;

    protected override void BeginProcessing()
    {
        if (ReportSchedule.MaximumSpreadCount(Duration, Interval, Count) is long most && Count > most)
        {
            double seconds = ReportSchedule.MinimumSpreadInterval.TotalSeconds;
            ThrowTerminating(
                new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"-Count {Count} spread over -Duration {Duration!.Value.TotalSeconds} s would report more often than every {seconds} s.")),
                ErrorIds.ReportCountTooHigh, ErrorCategory.InvalidArgument, Count,
                string.Create(CultureInfo.InvariantCulture,
                    $"Give -Count {most} or less for this -Duration, or give -Interval to say how often to report."));
        }
        if (Verdict && ParameterSetName == KernelParameterSet)
        {
            ThrowTerminating(new ArgumentException("-Verdict scans a process's memory; the kernel's allocations cannot be scanned."),
                ErrorIds.VerdictNeedsProcess, ErrorCategory.InvalidArgument, "Kernel",
                "Leave out -Verdict with -Kernel, or name a process with -Id, -Name or -Command.");
        }
        _schedule = ReportSchedule.From(Duration, Interval, Count, untilTargetExits: ParameterSetName == CommandParameterSet && Duration is null);
        base.BeginProcessing();
    }

    protected override void EndProcessing()
    {
        try
        {
            if (!StartTracing(streamEvents: false, captureStacks: true)) return;
            if (Verdict)
            {
                foreach (var target in Targets.Where(t => CanTakeVerdicts(t) is null))
                    _snapshotPreparers[target] = new SnapshotPreparer(target.ProcessId);
            }
            Watch();
        }
        finally
        {
            foreach (var preparer in _snapshotPreparers.Values) preparer.Dispose();
            _snapshotPreparers.Clear();
            StopTracing();
            FlushVerbose();
        }
    }

    private void Watch()
    {
        var schedule = _schedule!;
        TimeSpan? deadline = schedule.Deadline;
        int reportsLeft = schedule.Reports;

        var clock = Stopwatch.StartNew();
        var nextReport = schedule.Interval;
        var lastRefresh = TimeSpan.Zero;
        int reportNumber = 0;
        while (true)
        {
            var due = Min(nextReport, deadline);
            bool stopped = WaitForStop(Min(FollowsChildren ? ProcessTreeTick : Tick, due - clock.Elapsed));
            var now = clock.Elapsed;
            foreach (var target in Targets)
            {
                try { target.Tracer.AdvanceSampling(); }
                catch (TracerException ex) { WriteTracerError(ex, target.ProcessId); }
            }
            if (now - lastRefresh >= SymbolRefreshPeriod)
            {
                RefreshSymbols();
                lastRefresh = now;
            }
            bool allExited = false;
            try
            {
                PollProcesses();
                allExited = NoticeExitedTargets();
                if (!stopped) WriteWatchProgress(now, due, deadline, reportNumber);
            }
            catch (PipelineStoppedException) when (IsUserStop)
            {
                stopped = true;
            }

            if (!stopped && due is not null && due.Value - now <= ReportLead)
            {
                NameStacksAhead();
                if (Verdict) PrepareForVerdicts();
            }
            bool reportDue = due is not null && now >= due.Value;
            if (!(stopped || allExited || reportDue)) continue;

            bool final = stopped || allExited || (deadline is not null && now >= deadline.Value) || reportsLeft <= 1;
            try
            {
                Report(stopped, reportNumber + 1);
            }
            catch (PipelineStoppedException) when (!stopped && IsUserStop)
            {
                Report(stopped: true, reportNumber + 1);
                break;
            }
            // Any other PipelineStoppedException is a downstream command that has what it wants (Select-Object
            // -First): it goes on up, EndProcessing detaches, and the script carries on, as with any cmdlet.
            reportNumber++;
            reportsLeft--;
            _namedAhead.Clear();
            _announced.Clear();
            if (final || _verdictInterrupted) break;
            if (nextReport is not null) nextReport = schedule.NextAfter(nextReport.Value, clock.Elapsed);
        }
        if (!StopRequested) WriteProgress(new ProgressRecord(0, "Find-MemoryLeak", "Done") { RecordType = ProgressRecordType.Completed });
    }

    private void WriteWatchProgress(TimeSpan elapsed, TimeSpan? due, TimeSpan? deadline, int reports)
    {
        string targets = string.Join(", ", Targets.Select(Describe));
        var record = new ProgressRecord(0, "Find-MemoryLeak", $"Tracing {targets}")
        {
            CurrentOperation = reports == 0
                ? $"{elapsed.TotalSeconds:0} s traced; Ctrl+C reports what was gathered so far"
                : $"{elapsed.TotalSeconds:0} s traced, {reports} report(s) so far",
        };
        var end = deadline ?? due;
        if (end is not null && end.Value > TimeSpan.Zero)
        {
            record.PercentComplete = (int)Math.Clamp(elapsed.TotalMilliseconds * 100 / end.Value.TotalMilliseconds, 0, 100);
            record.SecondsRemaining = (int)Math.Max(0, (end.Value - elapsed).TotalSeconds);
        }
        WriteProgress(record);
    }

    private MonotonicClock.Anchor? _clock;

    private void Report(bool stopped, int reportIndex)
    {
        RefreshSymbols();
        var leaks = new List<MemoryLeak>();
        // One anchor for the whole trace, so every report maps the trace's start to the same wall-clock time.
        _clock ??= MonotonicClock.Anchor.Take();
        ulong reportNs = MonotonicClock.NowNs();
        // The blocks of an image exec replaced are dropped first: they died with their address space.
        if (!stopped) PollProcesses();
        // -Verdict: every target is paused and copied before the report reads its blocks, so one read serves both.
        // (Read alongside the copy, in the pause, the read saved 0.15 s after a 1 GiB target's window, but made the
        // pause longer by a fifth, and a busy service's up to twice: the target's time comes first.)
        var passes = Verdict ? PauseForVerdicts(stopped, reportNs) : null;
        try
        {
            foreach (var target in Targets)
            {
                var (builders, judged, loss, read) =
                    ReadTarget(target, reportNs, reportIndex, passes?[target].JudgedUpToNs, passes is null ? null : TakePreparedJudged(target));
                if (passes is not null && judged is not null)
                {
                    // The scan reads the target's own memory: its verdicts are for its own blocks (the tree root's).
                    var root = builders.FirstOrDefault(b => b.Key.IsRoot).Value.Builder;
                    // The stacks are named on a worker while this thread classifies the blocks (the two share
                    // nothing); the report below then finds every stack named already.
                    var reports = builders.Select(b => (b.Key, b.Value.Aggregator)).ToList();
                    var naming = Task.Run(() => NameStacks(reports));
                    VerdictTable verdicts;
                    try
                    {
                        verdicts = ClassifyBlocks(target, passes[target], judged.Blocks, stopped);
                    }
                    finally
                    {
                        naming.Wait();
                    }
                    if (root is not null)
                    {
                        root.PreviousVerdicts = _previousVerdicts.GetValueOrDefault(target.ProcessId);
                        root.Verdicts = verdicts;
                        root.Judged = judged;
                    }
                    _previousVerdicts[target.ProcessId] = verdicts;
                }
                var symbolizing = Stopwatch.StartNew();
                int stacks = 0;
                foreach (var (builder, aggregator) in builders.Values)
                {
                    var built = builder.Build(aggregator);
                    stacks += built.Count;
                    leaks.AddRange(built);
                }
                if (!stopped)
                {
                    WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                        $"{Describe(target)}: read the outstanding allocations of {builders.Count} process(es) in {read.TotalMilliseconds:F0} ms; symbolized {stacks} stacks in {symbolizing.Elapsed.TotalMilliseconds:F0} ms."));
                }
                if (!stopped) WarnAboutLoss(target, loss);
            }
        }
        finally
        {
            if (passes is not null) foreach (var pass in passes.Values) pass.Dispose();
        }
        IEnumerable<MemoryLeak> ordered = Verdict
            ? leaks.OrderBy(l => l.Verdict).ThenByDescending(l => l.Bytes).ThenByDescending(l => l.Count)
            : leaks.OrderByDescending(l => l.Bytes).ThenByDescending(l => l.Count);
        if (Top > 0) ordered = ordered.Take(Top);
        var report = ordered.ToList();

        // A stop that came during this report's pause (it let the target go at once) ends the command like any stop:
        // what was gathered goes out as the partial report.
        if (stopped || _verdictInterrupted)
        {
            WriteAfterStop(report);
            return;
        }
        foreach (var leak in report) WriteObject(WithViews(leak));
    }

    /// <summary>What a report read of one target: a report builder and its aggregator per process of the tree, the blocks a verdict pass judges, the loss counters.</summary>
    private sealed record TargetRead(
        Dictionary<TracedProcess, (LeakReportBuilder Builder, LeakAggregator Aggregator)> Builders,
        JudgedAllocations? Judged,
        TraceLoss Loss,
        TimeSpan Elapsed);

    /// <summary>
    /// Reads the outstanding allocations of <paramref name="target"/> into one builder per process of its tree. With
    /// <paramref name="judgedUpToNs"/> (-Verdict), the root's blocks made up to then go to the list its pass judges.
    /// </summary>
    /// <param name="prepared">A list for the judged blocks made ready during the window (<see cref="PrepareForVerdicts"/>), or null.</param>
    private TargetRead ReadTarget(TracedTarget target, ulong reportNs, int reportIndex, ulong? judgedUpToNs, JudgedAllocations? prepared)
    {
        var watch = Stopwatch.StartNew();
        var loss = target.Tracer.ReadLoss();
        ulong olderThanNs = (ulong)OlderThan.Ticks * 100;
        var clock = _clock!.Value;
        // One report per process of the tree: each leak names the process that made it.
        var builders = new Dictionary<TracedProcess, (LeakReportBuilder Builder, LeakAggregator Aggregator)>();
        LeakAggregator AggregatorOf(TracedProcess process)
        {
            if (builders.TryGetValue(process, out var entry)) return entry.Aggregator;
            var builder = new LeakReportBuilder
            {
                ProcessId = process.ProcessId,
                ProcessName = process.Name,
                TraceStartNs = target.TraceStartNs,
                // One time for every process of the report: ages and windows are as of its Timestamp.
                NowNs = reportNs,
                // A command we started whose process has exited has nothing in flight: all it never freed is leaked, whatever its age.
                OlderThanNs = target.IsLaunched && (process.IsRoot ? target.RootExited : process.Exited) ? 0 : olderThanNs,
                IncludeAddresses = IncludeAddresses,
                Timestamp = clock.ToDateTime(reportNs),
                Clock = clock,
                ReportIndex = reportIndex,
                Lost = loss,
                Symbolize = process.Symbolize,
                Allocator = target.Tracer.AllocatorName,
                SampleRate = SampleRate,
                StackOrigin = target.StackOrigin,
            };
            var aggregator = builder.NewAggregator();
            builders.Add(process, (builder, aggregator));
            return aggregator;
        }
        // Sized up front: grown by doubling, a million blocks would touch twice the memory.
        var judged = judgedUpToNs is null ? null : prepared ?? new JudgedAllocations(target.Tracer.OutstandingCountHint());
        target.ReadOutstanding(AggregatorOf, judged, judgedUpToNs ?? 0);
        return new TargetRead(builders, judged, loss, watch.Elapsed);
    }

    /// <summary>Type name that selects the view grouped by report, for traces that report more than once.</summary>
    public const string PeriodicTypeName = "LeakTools.Model.MemoryLeak#Periodic";

    /// <summary>The leak with the type names of its views: the verdict columns first (-Verdict), then the grouping by report.</summary>
    private object WithViews(MemoryLeak leak)
    {
        bool periodic = _schedule!.Reports > 1;
        if (!periodic && !Verdict) return leak;
        var wrapped = new PSObject(leak);
        if (periodic) wrapped.TypeNames.Insert(0, PeriodicTypeName);
        if (Verdict) wrapped.TypeNames.Insert(0, VerdictViewTypeName);
        return wrapped;
    }


    /// <summary>The type name that selects the view with the verdict columns (the plain view stays as it was without -Verdict).</summary>
    public const string VerdictViewTypeName = "LeakTools.Model.MemoryLeak#Verdict";

    private readonly Dictionary<int, VerdictTable> _previousVerdicts = new();
    // -Verdict: per target, the copy buffer kept ready while the trace runs.
    private readonly Dictionary<TracedTarget, SnapshotPreparer> _snapshotPreparers = new();
    private bool _verdictInterrupted;

    /// <summary>How long before a report its stacks start to be named, and (-Verdict) the list for its judged blocks is made ready.</summary>
    private static readonly TimeSpan ReportLead = TimeSpan.FromSeconds(3);

    /// <summary>How many allocations of a target <see cref="NameStacksAhead"/> samples.</summary>
    private const int StacksAheadSample = 4096;

    // The targets whose stacks were named ahead of the next report.
    private readonly HashSet<TracedTarget> _namedAhead = new();

    /// <summary>
    /// Once before each report, names the stacks of a sample of each target's outstanding allocations: what takes
    /// longest in naming (the modules' symbol and line tables) is then done, and after the window only the stacks
    /// the sample missed are left. A target with nothing outstanding yet is sampled again at the next tick.
    /// </summary>
    private void NameStacksAhead()
    {
        foreach (var target in Targets)
        {
            if (target.IsKernel || _namedAhead.Contains(target)) continue;
            try
            {
                if (target.NameStacksAhead(StacksAheadSample) > 0) _namedAhead.Add(target);
            }
            catch (Exception)
            {
                // Naming ahead must never cost the report: it reads the same map, names the same stacks, and reports
                // what fails there.
                _namedAhead.Add(target);
            }
        }
    }

    // -Verdict: the targets whose preparers were told the next report is due soon.
    private readonly HashSet<TracedTarget> _announced = new();

    // -Verdict: per target, the list for the next report's judged blocks, made ready on a worker during the window.
    private readonly Dictionary<TracedTarget, Task<JudgedAllocations>> _preparedJudged = new();

    /// <summary>
    /// When a report is due soon: makes ready, on a worker, a list for each target's judged blocks (a quarter more
    /// than it has now) when the one ready is missing or too small, and has each target's memory read once more.
    /// </summary>
    private void PrepareForVerdicts()
    {
        foreach (var target in Targets)
        {
            if (CanTakeVerdicts(target) is not null) continue;
            if (_announced.Add(target) && _snapshotPreparers.TryGetValue(target, out var preparer)) preparer.ReportSoon();
            int hint = target.Tracer.OutstandingCountHint();
            if (_preparedJudged.TryGetValue(target, out var ready)
                && (!ready.IsCompleted || (ready.IsCompletedSuccessfully && ready.Result.Capacity >= hint))) continue;
            int capacity = hint + hint / 4 + 1024;
            _preparedJudged[target] = Task.Run(() => JudgedAllocations.Prepared(capacity));
        }
    }

    /// <summary>The list made ready for <paramref name="target"/>, when it is (null otherwise: the read makes its own).</summary>
    private JudgedAllocations? TakePreparedJudged(TracedTarget target) =>
        _preparedJudged.Remove(target, out var ready) && ready.IsCompletedSuccessfully ? ready.Result : null;

    /// <summary>Why no pass over <paramref name="target"/> is taken now, or null when one is.</summary>
    private string? CanTakeVerdicts(TracedTarget target) =>
        target.IsKernel || target.TargetExited ? "the process has exited"
        : _verdictInterrupted ? "a stop interrupted the scan"
        : null;

    /// <summary>
    /// One verdict pass per target, each target paused and copied in turn. A pass a stop interrupted is not taken
    /// again for the report that follows the stop; a target that cannot be paused gets Inconclusive verdicts (and an
    /// error when the reason is one the user can act on).
    /// </summary>
    private Dictionary<TracedTarget, TargetVerdictPass> PauseForVerdicts(bool stopped, ulong reportNs)
    {
        var passes = new Dictionary<TracedTarget, TargetVerdictPass>();
        try
        {
            PauseEach(passes, stopped, reportNs);
            return passes;
        }
        catch
        {
            foreach (var pass in passes.Values) pass.Dispose();
            throw;
        }
    }

    private void PauseEach(Dictionary<TracedTarget, TargetVerdictPass> passes, bool stopped, ulong reportNs)
    {
        foreach (var target in Targets)
        {
            string? notNow = CanTakeVerdicts(target);
            if (notNow is not null || !_snapshotPreparers.TryGetValue(target, out var preparer))
            {
                passes[target] = TargetVerdictPass.Inconclusive(notNow ?? "the process has exited");
                continue;
            }
            bool stopAtStart = StopRequested;
            try
            {
                passes[target] = TargetVerdictPass.Pause(target, preparer.Take(), PauseLimit, () => !stopAtStart && StopRequested, reportNs);
                if (!stopAtStart && StopRequested) _verdictInterrupted = true;
            }
            catch (TargetPauseException ex)
            {
                passes[target] = TargetVerdictPass.Inconclusive(ex.Message);
                if (stopped || StopRequested) continue;
                switch (ex.Failure)
                {
                    case PauseFailure.TargetTraced:
                        WriteNonTerminatingError(ex, ErrorIds.VerdictTargetTraced, ErrorCategory.ResourceBusy, target.ProcessId,
                            string.Create(CultureInfo.InvariantCulture,
                                $"Detach the debugger or tracer (process {ex.TracerProcessId}) from process {target.ProcessId}, or leave out -Verdict."));
                        break;
                    case PauseFailure.HelperFailed:
                        WriteNonTerminatingError(ex, ErrorIds.VerdictPauseFailed, ErrorCategory.InvalidOperation, target.ProcessId,
                            "Rebuild the module with build.ps1 (it compiles native/pause/leaktools-pause.c into bin/), or leave out -Verdict.");
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Names the stacks of every site ahead of the report (each process caches what it named). Off the pipeline
    /// thread: what fails here is left for the report to meet again, and a stop ends it.
    /// </summary>
    private void NameStacks(IEnumerable<(TracedProcess Process, LeakAggregator Aggregator)> reports)
    {
        try
        {
            foreach (var (process, aggregator) in reports)
            {
                foreach (var site in aggregator.Sites())
                {
                    if (StopRequested) return;
                    process.Symbolize(site.Stack);
                }
            }
        }
        catch (Exception)
        {
            // The report names the same stacks again on the pipeline thread, and reports what goes wrong there.
        }
    }

    /// <summary>The verdicts of <paramref name="pass"/> on <paramref name="blocks"/>, the target's blocks as the report read them.</summary>
    private VerdictTable ClassifyBlocks(TracedTarget target, TargetVerdictPass pass, List<(ulong Address, ulong Size, ulong TimestampNs)> blocks, bool stopped)
    {
        var table = pass.Classify(blocks, keepReferrers: IncludeAddresses);
        if (pass.Paused && !stopped && !StopRequested)
        {
            WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                $"{Describe(target)}: paused {pass.Threads} thread(s) for {pass.PauseTime.TotalMilliseconds:F0} ms, copied {pass.BytesCopied / 1048576.0:F1} MiB; scanned and classified {pass.BlocksJudged} block(s) in {pass.ScanTime.TotalMilliseconds:F0} ms."));
            if (table.InconclusiveReason is { } reason) WriteWarning($"{Describe(target)}: the verdicts are Inconclusive: {reason}.");
        }
        return table;
    }

    /// <summary>
    /// After Ctrl+C PowerShell accepts no more output objects, but it still takes information records.
    /// So what was gathered goes out twice on that stream: as text tagged PSHOST, which the console shows
    /// like Write-Host, and as the MemoryLeak objects tagged <see cref="PartialReportTag"/>, which
    /// -InformationVariable (or a runspace's Information stream) keeps for scripts.
    /// </summary>
    private void WriteAfterStop(List<MemoryLeak> report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Find-MemoryLeak was stopped; {report.Count} leaking stack(s) gathered so far:");
        foreach (var leak in report)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{leak.Bytes,12} bytes {leak.Count,8} allocations  [{leak.ProcessId}] {(leak.Verdict is { } verdict ? verdict + "  " : "")}{leak.StackText}");
        }
        try
        {
            WriteInformation(new HostInformationMessage { Message = text.ToString().TrimEnd() }, new[] { "PSHOST" });
            WriteInformation(report.ToArray(), new[] { PartialReportTag });
        }
        catch (PipelineStoppedException)
        {
            // Nothing more can go out; detaching still happens in EndProcessing's finally.
        }
    }

    /// <summary>Tag of the information record that carries the MemoryLeak objects gathered before Ctrl+C.</summary>
    public const string PartialReportTag = "LeakTools.PartialReport";

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) =>
        a is null ? b : b is null ? a : (a.Value < b.Value ? a : b);

    private static TimeSpan Min(TimeSpan a, TimeSpan? b) => b is null || a < b.Value ? a : b.Value;
}
