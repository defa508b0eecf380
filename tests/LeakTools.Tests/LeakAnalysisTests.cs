using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Analysis;
using LeakTools.Model;
using Xunit;

namespace LeakTools.Tests;

public class LeakAnalysisTests
{
    private static (ulong[] Stack, TrackedAllocation Allocation) Allocation(ulong address, ulong size, ulong timeNs, params ulong[] stack) =>
        (stack, new TrackedAllocation { Address = address, Size = size, TimestampNs = timeNs });

    private static LeakAggregator Fill(LeakAggregator aggregator, IEnumerable<(ulong[] Stack, TrackedAllocation Allocation)> allocations)
    {
        foreach (var (stack, allocation) in allocations) aggregator.Add(stack, allocation);
        return aggregator;
    }

    [Fact]
    public void GroupsByStackValueAndSortsLargestFirst()
    {
        var allocations = new[]
        {
            Allocation(0x1000, 100, 10, 0xa, 0xb),
            Allocation(0x2000, 100, 20, new ulong[] { 0xa, 0xb }),   // same stack, another array
            Allocation(0x3000, 500, 30, 0xc),
        };
        var sites = Fill(new LeakAggregator(0, ulong.MaxValue), allocations).Sites();
        Assert.Equal(2, sites.Count);
        Assert.Equal(new ulong[] { 0xc }, sites[0].Stack);
        Assert.Equal(500UL, sites[0].Bytes);
        Assert.Equal(200UL, sites[1].Bytes);
        Assert.Equal(2, sites[1].Count);
        Assert.Equal(10UL, sites[1].OldestTimestampNs);
    }

    [Fact]
    public void LeavesOutAllocationsYoungerThanTheCut()
    {
        var allocations = new[] { Allocation(1, 8, 100, 0xa), Allocation(2, 8, 200, 0xa) };
        var site = Assert.Single(Fill(new LeakAggregator(0, 150), allocations).Sites());
        Assert.Equal(1, site.Count);
    }

    [Fact]
    public void BuildsLeaksWithRateOverTheCountedWindow()
    {
        const ulong second = 1_000_000_000;
        var builder = new LeakReportBuilder
        {
            ProcessId = 42,
            ProcessName = "app",
            TraceStartNs = 10 * second,
            NowNs = 13 * second,
            OlderThanNs = second / 2,
            IncludeAddresses = true,
            Symbolize = stack => stack.Select(a => new StackFrame { Address = a, Symbol = a == 0xa ? "fibonacci" : "child", Offset = 0x1c }).ToArray(),
        };
        var allocations = Enumerable.Range(0, 5).Select(i => Allocation((ulong)(0x9000 - i * 0x100), 8192, 10 * second + (ulong)i * second / 2, 0xa, 0xb));
        var leak = Assert.Single(builder.Build(Fill(builder.NewAggregator(), allocations)));
        Assert.Equal(5UL, leak.Count);
        Assert.Equal(5UL * 8192, leak.Bytes);
        // Counted window: from 10 s to 13 s - 0.5 s = 2.5 s.
        Assert.Equal(5 * 8192 / 2.5, leak.BytesPerSecond, 3);
        Assert.Equal(TimeSpan.FromSeconds(3), leak.OldestAge);
        Assert.Equal(TimeSpan.FromSeconds(3), leak.TraceDuration);
        Assert.Equal("fibonacci+0x1c ← child+0x1c", leak.StackText);
        Assert.Equal(new ulong[] { 0x8c00, 0x8d00, 0x8e00, 0x8f00, 0x9000 }, leak.Addresses);
    }

    [Fact]
    public void SaysWhichReportItIsAndTheWindowItCounts()
    {
        const ulong second = 1_000_000_000;
        var reportTime = new DateTime(2026, 11, 30, 12, 0, 13, DateTimeKind.Local);
        var builder = new LeakReportBuilder
        {
            TraceStartNs = 10 * second,
            NowNs = 13 * second,
            OlderThanNs = second / 2,
            Timestamp = reportTime,
            ReportIndex = 3,
            Symbolize = _ => Array.Empty<StackFrame>(),
        };
        var leak = Assert.Single(builder.Build(Fill(builder.NewAggregator(), new[] { Allocation(1, 8, 11 * second, 0xa) })));
        Assert.Equal(3, leak.ReportIndex);
        Assert.Equal(reportTime, leak.Timestamp);
        // Counted: allocations made from the trace start (3 s before the report) to -OlderThan before the report.
        Assert.Equal(reportTime.AddSeconds(-3), leak.WindowStart);
        Assert.Equal(reportTime.AddSeconds(-0.5), leak.WindowEnd);
        Assert.Equal(8 / 2.5, leak.BytesPerSecond, 6);
    }

    [Fact]
    public void AnEmptyWindowEndsWhereItStarts()
    {
        // Reported 0.2 s into the trace with -OlderThan 0.5 s: no allocation is old enough yet.
        var builder = new LeakReportBuilder
        {
            TraceStartNs = 1_000_000_000,
            NowNs = 1_200_000_000,
            OlderThanNs = 500_000_000,
            Timestamp = new DateTime(2026, 11, 30, 12, 0, 0),
            Symbolize = _ => Array.Empty<StackFrame>(),
        };
        // An aggregator without the cut, so there is a leak to look at.
        var leak = Assert.Single(builder.Build(Fill(new LeakAggregator(0, ulong.MaxValue), new[] { Allocation(1, 8, 1_000_000_000, 0xa) })));
        Assert.Equal(1, leak.ReportIndex);
        Assert.Equal(leak.WindowStart, leak.WindowEnd);
        Assert.Equal(builder.Timestamp.AddSeconds(-0.2), leak.WindowStart);
    }

    [Fact]
    public void LeavesOutAllocationsRecordedBeforeTheTraceStarted()
    {
        var builder = new LeakReportBuilder { TraceStartNs = 100, NowNs = 1000, Symbolize = _ => Array.Empty<StackFrame>() };
        var leak = Assert.Single(builder.Build(Fill(builder.NewAggregator(), new[] { Allocation(1, 8, 50), Allocation(2, 8, 100), Allocation(3, 8, 500) })));
        Assert.Equal(2UL, leak.Count);
    }

    [Fact]
    public void LeavesAddressesOutUnlessAsked()
    {
        var builder = new LeakReportBuilder { TraceStartNs = 10, NowNs = 10, Symbolize = _ => Array.Empty<StackFrame>() };
        var leak = Assert.Single(builder.Build(Fill(builder.NewAggregator(), new[] { Allocation(1, 8, 10) })));
        Assert.Null(leak.Addresses);
        Assert.Equal(0, leak.BytesPerSecond);
    }

    // Three words and a thread id: a million blocks cost 28 MB, and must not cost more (the blocks a -Verdict pass judges are held once, elsewhere).
    [Fact]
    public void TrackedAllocationStaysAt28Bytes()
        => Assert.Equal(28, System.Runtime.CompilerServices.Unsafe.SizeOf<TrackedAllocation>());

    [Fact]
    public void JudgedBlocksNameTheirSiteAndAreNotKeptInItToo()
    {
        var aggregator = new LeakAggregator(bornAtOrAfterNs: 100, bornAtOrBeforeNs: 1000);
        var judged = new JudgedAllocations(4);
        ulong[] first = { 0xa, 0xb }, second = { 0xc };
        aggregator.AddJudged(first, new TrackedAllocation { Address = 0x1000, Size = 16, TimestampNs = 200 }, judged);
        aggregator.AddJudged(second, new TrackedAllocation { Address = 0x2000, Size = 32, TimestampNs = 300 }, judged);
        // An equal stack in another array is the same site.
        aggregator.AddJudged(new ulong[] { 0xa, 0xb }, new TrackedAllocation { Address = 0x3000, Size = 48, TimestampNs = 400 }, judged);
        // Younger than the report counts: judged (its pointers count), but reported by no site.
        aggregator.AddJudged(first, new TrackedAllocation { Address = 0x4000, Size = 64, TimestampNs = 5000 }, judged);

        Assert.Equal(4, judged.Count);
        Assert.Equal(new[] { 0, 1, 0, JudgedAllocations.NotReported }, Enumerable.Range(0, 4).Select(judged.SiteOf));
        Assert.Equal((0x3000UL, 48UL, 400UL), judged.Blocks[2]);
        Assert.Equal(2, aggregator.SiteCount);
        Assert.Same(first, aggregator.SiteAt(0).Stack);
        Assert.Equal(0, aggregator.SiteAt(0).Count);   // held once, in the judged list
    }

    [Fact]
    public void APreparedJudgedListHasRoomAndIsEmpty()
    {
        var judged = JudgedAllocations.Prepared(10_000);
        Assert.Equal(0, judged.Count);
        Assert.True(judged.Capacity >= 10_000);
        judged.Add(new TrackedAllocation { Address = 0x10, Size = 8, TimestampNs = 1 }, site: 3);
        Assert.Equal((0x10UL, 8UL, 1UL), judged.Blocks[0]);
        Assert.Equal(3, judged.SiteOf(0));
    }

    [Fact]
    public void ASiteKeepsEveryAllocationInOrderAcrossItsChunks()
    {
        var site = new AllocationSite(new ulong[] { 0xa });
        for (ulong i = 0; i < 1000; i++) site.Add(new TrackedAllocation { Address = 0x1000 + i, Size = i, TimestampNs = 5000 - i, ThreadId = (int)i });
        Assert.Equal(1000, site.Count);
        Assert.Equal(1000, site.Allocations.Count());
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => 0x1000UL + (ulong)i), site.Allocations.Select(a => a.Address));
        Assert.Equal(999 * 1000 / 2UL, site.Bytes);
        Assert.Equal(4001UL, site.OldestTimestampNs);
        Assert.Equal(999, site.Allocations.Last().ThreadId);
    }

    [Fact]
    public void ASiteWithoutAllocationsEnumeratesNone()
        => Assert.Empty(new AllocationSite(Array.Empty<ulong>()).Allocations);

    [Fact]
    public void TraceLossSaysWhatWasLost()
    {
        Assert.Equal("none", new TraceLoss().ToString());
        Assert.True(new TraceLoss().IsEmpty);
        var loss = new TraceLoss { MapFull = 3, MissedReturns = 1 };
        Assert.False(loss.IsEmpty);
        Assert.Equal("map full 3, missed returns 1", loss.ToString());
    }
}

public class AllocatorFunctionNameTests
{
    [Theory]
    [InlineData(LeakTools.Tracing.AllocatorFunction.Malloc, "malloc")]
    [InlineData(LeakTools.Tracing.AllocatorFunction.PosixMemalign, "posix_memalign")]
    [InlineData(LeakTools.Tracing.AllocatorFunction.AlignedAlloc, "aligned_alloc")]
    [InlineData(LeakTools.Tracing.AllocatorFunction.ReallocArray, "reallocarray")]
    [InlineData(LeakTools.Tracing.AllocatorFunction.KmemCacheAlloc, "kmem_cache_alloc")]
    [InlineData(LeakTools.Tracing.AllocatorFunction.PageAlloc, "mm_page_alloc")]
    public void NamesAllocatorsAsCDoes(LeakTools.Tracing.AllocatorFunction function, string name) =>
        Assert.Equal(name, LeakTools.Tracing.AllocatorProbe.NameOf(function));
}

public class ReportScheduleTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void ReportsOnceAfterFiveSecondsByDefault()
    {
        var schedule = ReportSchedule.From(null, null, null, untilTargetExits: false);
        Assert.Equal(S(5), schedule.Interval);
        Assert.Equal(S(5), schedule.Deadline);
        Assert.Equal(1, schedule.Reports);
    }

    [Fact]
    public void IntervalAndCountAreMemleaksPeriodicReports()
    {
        var schedule = ReportSchedule.From(null, S(5), 3, untilTargetExits: false);
        Assert.Equal(S(5), schedule.Interval);
        Assert.Equal(S(15), schedule.Deadline);
        Assert.Equal(3, schedule.Reports);
    }

    [Fact]
    public void IntervalAloneRunsUntilStopped()
    {
        var schedule = ReportSchedule.From(null, S(2), null, untilTargetExits: false);
        Assert.Null(schedule.Deadline);
        Assert.Equal(int.MaxValue, schedule.Reports);
    }

    [Fact]
    public void CountSpreadsReportsOverTheDuration()
    {
        var schedule = ReportSchedule.From(S(10), null, 5, untilTargetExits: false);
        Assert.Equal(S(2), schedule.Interval);
        Assert.Equal(S(10), schedule.Deadline);
        Assert.Equal(5, schedule.Reports);
    }

    [Fact]
    public void CountAloneReportsEveryFiveSeconds()
    {
        var schedule = ReportSchedule.From(null, null, 3, untilTargetExits: false);
        Assert.Equal(S(5), schedule.Interval);
        Assert.Equal(S(15), schedule.Deadline);
        Assert.Equal(3, schedule.Reports);
    }

    [Fact]
    public void CountNeverSpreadsReportsCloserThanATenthOfASecond()
    {
        Assert.Equal(10, ReportSchedule.MaximumSpreadCount(S(1), null, int.MaxValue));
        Assert.Null(ReportSchedule.MaximumSpreadCount(S(1), S(0.5), int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReportSchedule.From(S(1), null, int.MaxValue, untilTargetExits: false));
        Assert.Equal(S(0.1), ReportSchedule.From(S(1), null, 10, untilTargetExits: false).Interval);
    }

    [Fact]
    public void AReportThatFellBehindSkipsTheMissedTurns()
    {
        var schedule = ReportSchedule.From(null, S(1), 5, untilTargetExits: false);
        Assert.Equal(S(2), schedule.NextAfter(S(1), S(1.2)));
        // Reporting took 2.5 s: the next comes a whole interval later, not at once.
        Assert.Equal(S(4.5), schedule.NextAfter(S(1), S(3.5)));
    }

    [Fact]
    public void ACommandWithoutDurationIsTracedUntilItExits()
    {
        var schedule = ReportSchedule.From(null, null, null, untilTargetExits: true);
        Assert.Null(schedule.Interval);
        Assert.Null(schedule.Deadline);
        Assert.Equal(1, schedule.Reports);
    }
}
