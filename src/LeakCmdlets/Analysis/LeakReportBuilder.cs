using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Model;
using LeakTools.Reachability;
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

    /// <summary>With -Verdict: this report's verdicts on <see cref="Judged"/>; each site is then split into one MemoryLeak per verdict.</summary>
    public VerdictTable? Verdicts { get; set; }

    /// <summary>With -Verdict: the blocks the verdicts are on, by position, each with the site that reports it.</summary>
    public JudgedAllocations? Judged { get; set; }

    /// <summary>With -Verdict and -Interval: the previous report's verdicts, which confirm what is still lost.</summary>
    public VerdictTable? PreviousVerdicts { get; set; }

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
        // Only allocations made in [TraceStart, Cutoff] are counted, so that is the window of the rate.
        DateTime windowStart = WallClock(TraceStartNs);
        var window = new ReportWindow(
            Cutoff > TraceStartNs ? (Cutoff - TraceStartNs) / 1e9 : 0,
            TimeSpan.FromTicks((long)((NowNs - Math.Min(NowNs, TraceStartNs)) / 100)),
            windowStart,
            Cutoff > TraceStartNs ? WallClock(Cutoff) : windowStart);
        if (Verdicts is not null) return BuildVerdictGroups(aggregator, window);
        var sites = aggregator.Sites();
        var leaks = new List<MemoryLeak>(sites.Count);
        foreach (var site in sites)
        {
            var leak = NewLeak(site.Stack, site.Bytes, (ulong)site.Count, site.OldestTimestampNs, window);
            leak.Addresses = IncludeAddresses ? site.Allocations.Select(a => a.Address).OrderBy(a => a).ToArray() : null;
            leaks.Add(leak);
        }
        return leaks;
    }

    /// <summary>The span a report counts allocations in, as seconds (for the rate), as trace time, and as wall-clock times.</summary>
    private readonly record struct ReportWindow(double Seconds, TimeSpan Traced, DateTime Start, DateTime End);

    /// <summary>One MemoryLeak of allocations with this stack; bytes and counts scaled by the sample rate.</summary>
    private MemoryLeak NewLeak(ulong[] stack, ulong sampledBytes, ulong sampledCount, ulong oldestNs, in ReportWindow window)
    {
        var frames = Symbolize(stack);
        uint scale = Math.Max(1, SampleRate);
        ulong bytes = sampledBytes * scale;
        CapturedStack? origin = StackOrigin?.Invoke(stack);
        return new MemoryLeak
        {
            ProcessId = ProcessId,
            ProcessName = ProcessName,
            Bytes = bytes,
            Count = sampledCount * scale,
            SampleRate = scale,
            OldestAge = TimeSpan.FromTicks((long)((NowNs - Math.Min(NowNs, oldestNs)) / 100)),
            BytesPerSecond = window.Seconds > 0 ? bytes / window.Seconds : 0,
            Stack = frames,
            StackText = StackFormatter.Join(frames),
            StackSource = origin?.Source ?? StackSource.CallerOnly,
            StackEnd = origin?.End ?? StackEnd.None,
            StackComplete = origin?.IsComplete ?? false,
            Timestamp = Timestamp,
            TraceDuration = window.Traced,
            Lost = Lost,
            Allocator = Allocator,
            ReportIndex = ReportIndex,
            WindowStart = window.Start,
            WindowEnd = window.End,
        };
    }

    /// <summary>The wall-clock time of a monotonic timestamp, counted back from <see cref="Timestamp"/>.</summary>
    private DateTime WallClock(ulong ns) => Clock?.ToDateTime(ns) ?? Timestamp.AddTicks(-((long)NowNs - (long)ns) / 100);

    /// <summary>
    /// One MemoryLeak per (site, verdict), like valgrind's loss records. The judged blocks are totalled in one pass
    /// in the order they were read and judged, the order of every array that describes them.
    /// </summary>
    private List<MemoryLeak> BuildVerdictGroups(LeakAggregator aggregator, in ReportWindow window)
    {
        const int verdictCount = (int)LeakVerdict.Inconclusive + 1;
        var verdicts = Verdicts!;
        var groups = new VerdictGroup?[aggregator.SiteCount * verdictCount];
        VerdictGroup GroupOf(int site, LeakVerdict verdict) =>
            groups[site * verdictCount + (int)verdict] ??= new VerdictGroup(IncludeAddresses);
        if (Judged is { } judged)
        {
            var blocks = judged.Blocks;
            for (int position = 0; position < judged.Count; position++)
            {
                int site = judged.SiteOf(position);
                if (site == JudgedAllocations.NotReported) continue;
                var (address, size, timestampNs) = blocks[position];
                var verdict = verdicts.VerdictAt(position);
                var group = GroupOf(site, verdict);
                group.Add(size, timestampNs);
                if (verdict == LeakVerdict.DefinitelyLost) group.IndirectBytes += verdicts.IndirectBytesAt(position);
                if ((verdict is LeakVerdict.DefinitelyLost or LeakVerdict.IndirectlyLost) && PreviousVerdicts is not null)
                    group.Confirmed |= PreviousVerdicts.FoundLost(address, timestampNs);
                group.Blocks?.Add((address, verdicts[position]));
            }
        }
        // A site's own allocations were not judged (made during the pause, or by no judged process): they are
        // reported only when nothing could be judged at all, as Inconclusive.
        if (verdicts.AllInconclusive)
        {
            for (int site = 0; site < aggregator.SiteCount; site++)
            {
                foreach (var allocation in aggregator.SiteAt(site).Allocations)
                {
                    var group = GroupOf(site, LeakVerdict.Inconclusive);
                    group.Add(allocation.Size, allocation.TimestampNs);
                    group.Blocks?.Add((allocation.Address, BlockVerdict.Inconclusive));
                }
            }
        }

        var leaks = new List<MemoryLeak>();
        for (int site = 0; site < aggregator.SiteCount; site++)
        {
            for (int v = 0; v < verdictCount; v++)
            {
                if (groups[site * verdictCount + v] is not { } group) continue;
                var verdict = (LeakVerdict)v;
                var ordered = group.Blocks?.OrderBy(b => b.Address).ToList();
                var leak = NewLeak(aggregator.SiteAt(site).Stack, group.Bytes, group.Count, group.OldestNs, window);
                leak.Addresses = ordered?.Select(b => b.Address).ToArray();
                leak.Verdict = verdict;
                leak.DirectBytes = leak.Bytes;
                leak.IndirectBytes = group.IndirectBytes * leak.SampleRate;
                leak.Confirmed = group.Confirmed;
                leak.Referrers = verdict == LeakVerdict.PossiblyLost ? ordered?.Select(b => DescribeReferrer(b.Verdict)).ToArray() : null;
                leaks.Add(leak);
            }
        }
        return leaks;
    }

    private sealed class VerdictGroup
    {
        public VerdictGroup(bool keepBlocks) => Blocks = keepBlocks ? new() : null;

        public ulong Count, Bytes, IndirectBytes, OldestNs = ulong.MaxValue;
        public bool Confirmed;

        public void Add(ulong size, ulong timestampNs)
        {
            Count++;
            Bytes += size;
            OldestNs = Math.Min(OldestNs, timestampNs);
        }

        public List<(ulong Address, BlockVerdict Verdict)>? Blocks { get; }
    }

    private static string DescribeReferrer(in BlockVerdict verdict) =>
        verdict.Referrer == BlockGraph.InRegister
            ? $"register -> +0x{verdict.ReferrerOffset:x}"
            : $"0x{verdict.Referrer:x} -> +0x{verdict.ReferrerOffset:x}";
}
