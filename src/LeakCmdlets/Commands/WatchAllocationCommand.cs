using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using LeakTools.Analysis;
using LeakTools.Model;
using LeakTools.Targets;
using LeakTools.Tracing;

namespace LeakTools.Commands;

/// <summary>
/// <para type="synopsis">Streams every allocator call of a process as it happens.</para>
/// One AllocationEvent per malloc, free, mmap, ... until -Duration ends, the target exits, or Ctrl+C.
/// Events travel through a ring buffer; when the consumer falls behind, the loss is counted and warned about.
/// </summary>
[Cmdlet(VerbsCommon.Watch, "Allocation", DefaultParameterSetName = IdParameterSet)]
[OutputType(typeof(AllocationEvent))]
public sealed class WatchAllocationCommand : AllocationTraceCmdletBase
{
    private static readonly TimeSpan LossCheckPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SymbolRefreshPeriod = TimeSpan.FromMilliseconds(200);
    private const int EventsPerTurn = 256;

    // Every event's timestamp converts through the same anchor, so their order is the kernel's.
    private MonotonicClock.Anchor _wallClock;

    /// <summary>Fill AllocationEvent.Stack with the calling stack of each event.</summary>
    [Parameter]
    public SwitchParameter IncludeStack { get; set; }

    protected override string LossAdvice(TraceLoss grown)
    {
        var advice = new List<string>();
        if (grown.RingBufferDrops != 0 || grown.MapFull != 0 || grown.MissedReturns != 0)
            advice.Add("Some calls are missing from the stream: consume the events faster, or emit fewer with -MinSize or -SampleRate.");
        if (grown.StacksLost != 0)
            advice.Add("The stack map was full: some events' Stack holds only the direct caller (the events themselves are complete).");
        return string.Join(" ", advice);
    }

    protected override void EndProcessing()
    {
        try
        {
            if (!StartTracing(streamEvents: true, captureStacks: IncludeStack)) return;
            Stream();
        }
        finally
        {
            try
            {
                // Read the loss before freeing the maps: a slow consumer's drops are reported, never silent.
                if (!IsUserStop) WarnAboutLosses();
            }
            finally
            {
                StopTracing();
                FlushVerbose();
            }
        }
    }

    private void Stream()
    {
        _wallClock = MonotonicClock.Anchor.Take();
        var clock = Stopwatch.StartNew();
        bool WindowOpen() => Duration is null || clock.Elapsed < Duration.Value;
        var lastCheck = TimeSpan.Zero;
        var lastRefresh = TimeSpan.Zero;
        while (!StopRequested && WindowOpen())
        {
            bool any = false;
            foreach (var target in Targets)
            {
                // With one target, block in the engine for a short while; with several, poll each in turn.
                int timeoutMs = Targets.Count == 1 ? 100 : 0;
                // The window and a stop are checked at every event: a slow consumer makes every WriteObject slow.
                for (int i = 0; i < EventsPerTurn && WindowOpen() && !StopRequested && target.Tracer.TryTakeEvent(out var record, i == 0 ? timeoutMs : 0); i++)
                {
                    any = true;
                    WriteObject(ToEvent(target, record));
                }
            }
            if (!any && Targets.Count > 1) WaitForStop(TimeSpan.FromMilliseconds(20));

            var now = clock.Elapsed;
            if (IncludeStack && now - lastRefresh >= SymbolRefreshPeriod)
            {
                lastRefresh = now;
                RefreshSymbols();
            }
            // Forks, execs and exits of the traced processes: a child's modules are read while it runs.
            PollProcesses();
            if (now - lastCheck >= LossCheckPeriod)
            {
                lastCheck = now;
                WarnAboutLosses();
            }
            FlushVerbose();
            // Drain what the exited target left in the buffer before ending.
            if (!any && NoticeExitedTargets()) break;
        }
        if (!StopRequested) DetachAndDrain();
    }

    /// <summary>
    /// How long the calls still buffered when the window ends may take to deliver. A consumer that keeps pace
    /// takes milliseconds for the whole ring (about 65,000 calls in 4 MiB); one that needs a millisecond per
    /// object would take a minute. -Duration is wall-clock time, so past this the rest is counted, not delivered.
    /// </summary>
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The window ended (or every target exited): detach first, so the targets run unprobed from here on, then
    /// deliver only what is already buffered (the per-CPU stages and the ring; events reach user space a flush
    /// period or two late), for at most <see cref="DrainLimit"/>. What a slow consumer leaves is warned about.
    /// </summary>
    private void DetachAndDrain()
    {
        ulong windowEndNs = MonotonicClock.NowNs();
        foreach (var target in Targets) target.Tracer.DetachProbes();
        var draining = Stopwatch.StartNew();
        long undelivered = 0;
        foreach (var target in Targets)
        {
            // Nothing new is produced now: a take that finds nothing for two flush rounds has emptied the buffers.
            while (!StopRequested && target.Tracer.TryTakeEvent(out var record, AllocationTracer.EventDelayMs))
            {
                // Calls made while the probes came off are half seen (a malloc whose return probe was already gone,
                // then its free): the stream is in timestamp order, so the rest of this target's is left out.
                if ((long)(record.TimestampNs - windowEndNs) > 0) break;
                if (draining.Elapsed >= DrainLimit) { undelivered++; continue; }
                WriteObject(ToEvent(target, record));
            }
        }
        if (undelivered > 0)
        {
            WriteWarning(string.Create(CultureInfo.InvariantCulture,
                $"{undelivered} calls made before the trace ended were still buffered {DrainLimit.TotalSeconds} s later and are not delivered. Consume the events faster, or emit fewer with -MinSize or -SampleRate."));
        }
    }

    private void WarnAboutLosses()
    {
        foreach (var target in Targets) WarnAboutLoss(target, target.Tracer.ReadLoss());
    }

    private AllocationEvent ToEvent(TracedTarget target, in AllocationRecord record)
    {
        var process = target.ProcessOf((int)record.ProcessId);
        var allocationEvent = new AllocationEvent
        {
            Timestamp = _wallClock.ToDateTime(record.TimestampNs),
            ProcessId = (int)record.ProcessId,
            // Kernel mode: the process is whichever one was running when the kernel allocated; its name is not kept.
            ProcessName = target.IsKernel ? null : process.Name,
            ThreadId = (int)record.ThreadId,
            Function = target.Tracer.NameOf(record.Function),
            Address = record.Address,
            Size = record.Size,
            PreviousAddress = record.PreviousAddress,
            Allocator = target.Tracer.AllocatorName,
            SampleRate = SampleRate,
        };
        if (IncludeStack)
        {
            var stack = target.ReadStack(record).Frames;
            var frames = process.Symbolize(stack);
            allocationEvent.Stack = frames;
            allocationEvent.StackText = StackFormatter.Join(frames);
        }
        return allocationEvent;
    }
}
