using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Model;
using LeakTools.Stacks;
using LeakTools.Tracing;

namespace LeakTools.Analysis;

/// <summary>Turns the allocation sites of one traced process into MemoryLeak objects.</summary>
public sealed class LeakReportBuilder
{
    public int ProcessId { get; init; }

    public string? ProcessName { get; init; }

    /// <summary>
    /// When tracing started (monotonic ns): the start of the window the growth rate is taken over. Allocations
    /// recorded earlier (while the probes were still attaching, so their free may have gone unseen) are left out.
    /// </summary>
    public ulong TraceStartNs { get; init; }

    /// <summary>The report time (monotonic ns).</summary>
    public ulong NowNs { get; init; }

    /// <summary>The -OlderThan cut: allocations younger than this are in flight, not leaks.</summary>
    public ulong OlderThanNs { get; init; }

    public bool IncludeAddresses { get; init; }

    /// <summary>
    /// The report's wall-clock time, that of <see cref="NowNs"/>; one value for every process of one report, so
    /// reports group by it. The window's wall-clock times count back from it.
    /// </summary>
    public DateTime Timestamp { get; init; } = DateTime.Now;

    /// <summary>
    /// Maps monotonic times to wall-clock times for the window; one anchor for every report of a trace gives every
    /// report the same WindowStart, to the tick. Without it the window counts back from <see cref="Timestamp"/>.
    /// </summary>
    public MonotonicClock.Anchor? Clock { get; init; }

    /// <summary>Which report of the trace this is: 1 for the first (periodic reports count up).</summary>
    public int ReportIndex { get; init; } = 1;

    public TraceLoss Lost { get; init; } = new();

    /// <summary>The traced allocator's file name (libc.so.6, libjemalloc.so.2), null for the kernel.</summary>
    public string? Allocator { get; init; }

    /// <summary>About one allocation in this many was recorded: bytes and counts are scaled by it (estimates).</summary>
    public uint SampleRate { get; init; } = 1;

    /// <summary>Names a stack of raw addresses.</summary>
    public required Func<ulong[], StackFrame[]> Symbolize { get; init; }

    /// <summary>How a stack of raw addresses was obtained and why it ended (null: not known, as for the caller alone).</summary>
    public Func<ulong[], CapturedStack?>? StackOrigin { get; init; }

    /// <summary>The newest allocation time that still counts as a leak at <see cref="NowNs"/>.</summary>
    public ulong Cutoff => NowNs > OlderThanNs ? NowNs - OlderThanNs : 0;

    /// <summary>
    /// An aggregator that counts only the allocations made in [TraceStart, Cutoff]: allocations recorded
    /// earlier (while the probes were still attaching) and those still in flight are left out as they are read.
    /// </summary>
    public LeakAggregator NewAggregator() => new(TraceStartNs, Cutoff);

    /// <summary>The MemoryLeak objects of what <paramref name="aggregator"/> (from <see cref="NewAggregator"/>) gathered.</summary>
    public List<MemoryLeak> Build(LeakAggregator aggregator)
    {
        var sites = aggregator.Sites();
        // Only allocations made in [TraceStart, Cutoff] are counted, so that is the window of the rate.
        double windowSeconds = Cutoff > TraceStartNs ? (Cutoff - TraceStartNs) / 1e9 : 0;
        var traced = TimeSpan.FromTicks((long)((NowNs - Math.Min(NowNs, TraceStartNs)) / 100));
        DateTime windowStart = WallClock(TraceStartNs);
        DateTime windowEnd = Cutoff > TraceStartNs ? WallClock(Cutoff) : windowStart;
        var leaks = new List<MemoryLeak>(sites.Count);
        foreach (var site in sites)
        {
            var frames = Symbolize(site.Stack);
            uint scale = Math.Max(1, SampleRate);
            ulong bytes = site.Bytes * scale;
            CapturedStack? origin = StackOrigin?.Invoke(site.Stack);
            leaks.Add(new MemoryLeak
            {
                ProcessId = ProcessId,
                ProcessName = ProcessName,
                Bytes = bytes,
                Count = (ulong)site.Count * scale,
                SampleRate = scale,
                OldestAge = TimeSpan.FromTicks((long)((NowNs - Math.Min(NowNs, site.OldestTimestampNs)) / 100)),
                BytesPerSecond = windowSeconds > 0 ? bytes / windowSeconds : 0,
                Stack = frames,
                StackText = StackFormatter.Join(frames),
                StackSource = origin?.Source ?? StackSource.CallerOnly,
                StackEnd = origin?.End ?? StackEnd.None,
                StackComplete = origin?.IsComplete ?? false,
                Addresses = IncludeAddresses ? site.Allocations.Select(a => a.Address).OrderBy(a => a).ToArray() : null,
                Timestamp = Timestamp,
                TraceDuration = traced,
                Lost = Lost,
                Allocator = Allocator,
                ReportIndex = ReportIndex,
                WindowStart = windowStart,
                WindowEnd = windowEnd,
            });
        }
        return leaks;
    }

    /// <summary>The wall-clock time of a monotonic timestamp, counted back from <see cref="Timestamp"/>.</summary>
    private DateTime WallClock(ulong ns) => Clock?.ToDateTime(ns) ?? Timestamp.AddTicks(-((long)NowNs - (long)ns) / 100);
}
