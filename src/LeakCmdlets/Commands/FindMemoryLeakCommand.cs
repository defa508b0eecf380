using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Text;
using LeakTools.Analysis;
using LeakTools.Model;
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
        _schedule = ReportSchedule.From(Duration, Interval, Count, untilTargetExits: ParameterSetName == CommandParameterSet && Duration is null);
        base.BeginProcessing();
    }

    protected override void EndProcessing()
    {
        try
        {
            if (!StartTracing(streamEvents: false, captureStacks: true)) return;
            Watch();
        }
        finally
        {
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
            if (final) break;
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
        ulong olderThanNs = (ulong)OlderThan.Ticks * 100;
        foreach (var target in Targets)
        {
            var loss = target.Tracer.ReadLoss();
            // The blocks of an image exec replaced are dropped first: they died with their address space.
            if (!stopped) PollProcesses();
            var watch = Stopwatch.StartNew();
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
                    Timestamp = _clock.Value.ToDateTime(reportNs),
                    Clock = _clock,
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
            target.ReadOutstanding(AggregatorOf);
            var read = watch.Elapsed;
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
                    $"{Describe(target)}: read the outstanding allocations of {builders.Count} process(es) in {read.TotalMilliseconds:F0} ms; symbolized {stacks} stacks in {(watch.Elapsed - read).TotalMilliseconds:F0} ms."));
            }
            if (!stopped) WarnAboutLoss(target, loss);
        }
        IEnumerable<MemoryLeak> ordered = leaks.OrderByDescending(l => l.Bytes).ThenByDescending(l => l.Count);
        if (Top > 0) ordered = ordered.Take(Top);
        var report = ordered.ToList();

        if (stopped)
        {
            WriteAfterStop(report);
            return;
        }
        foreach (var leak in report) WriteObject(_schedule!.Reports > 1 ? AsPeriodic(leak) : leak);
    }

    /// <summary>Type name that selects the view grouped by report, for traces that report more than once.</summary>
    public const string PeriodicTypeName = "LeakTools.Model.MemoryLeak#Periodic";

    private static PSObject AsPeriodic(MemoryLeak leak)
    {
        var wrapped = new PSObject(leak);
        wrapped.TypeNames.Insert(0, PeriodicTypeName);
        return wrapped;
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
            text.AppendLine(CultureInfo.InvariantCulture, $"{leak.Bytes,12} bytes {leak.Count,8} allocations  [{leak.ProcessId}] {leak.StackText}");
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
