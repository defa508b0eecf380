using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Model;
using LeakTools.Reachability;

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

    /// <summary>The report's wall-clock time; one value for every process of one report, so reports group by it.</summary>
    public DateTime Timestamp { get; init; } = DateTime.Now;

    public TraceLoss Lost { get; init; } = new();

    /// <summary>Names a stack of raw addresses.</summary>
    public required Func<ulong[], StackFrame[]> Symbolize { get; init; }

    /// <summary>With -Verdict: this report's verdicts; each site is then split into one MemoryLeak per verdict.</summary>
    public VerdictTable? Verdicts { get; set; }

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
        var sites = aggregator.Sites();
        // Only allocations made in [TraceStart, Cutoff] are counted, so that is the window of the rate.
        double windowSeconds = Cutoff > TraceStartNs ? (Cutoff - TraceStartNs) / 1e9 : 0;
        var traced = TimeSpan.FromTicks((long)((NowNs - Math.Min(NowNs, TraceStartNs)) / 100));
        var leaks = new List<MemoryLeak>(sites.Count);
        foreach (var site in sites)
        {
            if (Verdicts is not null)
            {
                AddVerdictGroups(leaks, site, windowSeconds, traced);
                continue;
            }
            var frames = Symbolize(site.Stack);
            leaks.Add(new MemoryLeak
            {
                ProcessId = ProcessId,
                ProcessName = ProcessName,
                Bytes = site.Bytes,
                Count = (ulong)site.Count,
                OldestAge = TimeSpan.FromTicks((long)((NowNs - Math.Min(NowNs, site.OldestTimestampNs)) / 100)),
                BytesPerSecond = windowSeconds > 0 ? site.Bytes / windowSeconds : 0,
                Stack = frames,
                StackText = StackFormatter.Join(frames),
                Addresses = IncludeAddresses ? site.Allocations.Select(a => a.Address).OrderBy(a => a).ToArray() : null,
                Timestamp = Timestamp,
                TraceDuration = traced,
                Lost = Lost,
            });
        }
        return leaks;
    }

    /// <summary>One MemoryLeak per verdict among the site's allocations; those freed while the scan ran are left out.</summary>
    private void AddVerdictGroups(List<MemoryLeak> leaks, AllocationSite site, double windowSeconds, TimeSpan traced)
    {
        var groups = new SortedDictionary<LeakVerdict, List<(TrackedAllocation Allocation, BlockVerdict Verdict)>>();
        foreach (var allocation in site.Allocations)
        {
            if (!Verdicts!.TryGet(allocation.Address, allocation.TimestampNs, out var verdict)) continue;
            if (!groups.TryGetValue(verdict.Verdict, out var group)) groups.Add(verdict.Verdict, group = new());
            group.Add((allocation, verdict));
        }
        if (groups.Count == 0) return;
        var frames = Symbolize(site.Stack);
        string stackText = StackFormatter.Join(frames);
        foreach (var (verdict, group) in groups)
        {
            ulong bytes = 0, indirect = 0, oldest = ulong.MaxValue;
            bool confirmed = false;
            foreach (var (allocation, block) in group)
            {
                bytes += allocation.Size;
                indirect += block.IndirectBytes;
                oldest = Math.Min(oldest, allocation.TimestampNs);
                confirmed |= block.IsLost && PreviousVerdicts is not null && PreviousVerdicts.FoundLost(allocation.Address, allocation.TimestampNs);
            }
            var ordered = IncludeAddresses ? group.OrderBy(g => g.Allocation.Address).ToList() : null;
            leaks.Add(new MemoryLeak
            {
                ProcessId = ProcessId,
                ProcessName = ProcessName,
                Bytes = bytes,
                Count = (ulong)group.Count,
                OldestAge = TimeSpan.FromTicks((long)((NowNs - Math.Min(NowNs, oldest)) / 100)),
                BytesPerSecond = windowSeconds > 0 ? bytes / windowSeconds : 0,
                Stack = frames,
                StackText = stackText,
                Addresses = ordered?.Select(g => g.Allocation.Address).ToArray(),
                Timestamp = Timestamp,
                TraceDuration = traced,
                Lost = Lost,
                Verdict = verdict,
                DirectBytes = bytes,
                IndirectBytes = indirect,
                Confirmed = confirmed,
                Referrers = verdict == LeakVerdict.PossiblyLost ? ordered?.Select(g => DescribeReferrer(g.Verdict)).ToArray() : null,
            });
        }
    }

    private static string DescribeReferrer(in BlockVerdict verdict) =>
        verdict.Referrer == BlockGraph.InRegister
            ? $"register -> +0x{verdict.ReferrerOffset:x}"
            : $"0x{verdict.Referrer:x} -> +0x{verdict.ReferrerOffset:x}";
}
