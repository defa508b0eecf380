using LeakTools.Bpf;
using LeakTools.Model;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests;

/// <summary>A ring record of the wrong size is a loss like the others: it makes the loss non-empty, named and warned about.</summary>
public class TraceLossTests
{
    [Fact]
    public void MismatchedRingRecordsAreALossThatIsNamedAndWarnedAbout()
    {
        var loss = new TraceLoss { MismatchedRecords = 3 };
        Assert.False(loss.IsEmpty);
        Assert.Equal("ring records of the wrong size 3 (rebuild the module with build.ps1)", loss.ToString());
        Assert.Equal(3UL, loss.Since(new TraceLoss()).MismatchedRecords);
        Assert.True(loss.Since(new TraceLoss { MismatchedRecords = 3 }).IsEmpty);
    }

    [Fact]
    public void SinceGivesEachCounterItsGrowthOnly()
    {
        var warned = new TraceLoss { MapFull = 5, StacksLost = 5, MissedReturns = 5, RingBufferDrops = 5, MismatchedRecords = 5 };
        Assert.True(new TraceLoss { MapFull = 5, StacksLost = 5, MissedReturns = 5, RingBufferDrops = 5, MismatchedRecords = 5 }.Since(warned).IsEmpty);
        var grown = new TraceLoss { MapFull = 7, StacksLost = 6, MissedReturns = 9, RingBufferDrops = 8, MismatchedRecords = 10 }.Since(warned);
        Assert.Equal((2UL, 1UL, 4UL, 3UL, 5UL), (grown.MapFull, grown.StacksLost, grown.MissedReturns, grown.RingBufferDrops, grown.MismatchedRecords));
        // A counter read lower than before (a new tracer) is no growth, never a wrapped-around huge number.
        Assert.True(new TraceLoss { MapFull = 1 }.Since(warned).IsEmpty);
    }

    /// <summary>Each "stats" counter reaches TracerStatistics and rolls into the loss its row in memleak.h names.</summary>
    [Fact]
    public void StatCountersRollIntoTheirLosses()
    {
        // Counter i holds 2^i, so every sum says which counters went into it.
        var stats = new ulong[MemleakAbi.StatCount];
        for (int i = 0; i < (int)MemleakAbi.Stat.HitsBase; i++) stats[i] = 1UL << i;
        stats[(int)MemleakAbi.Stat.HitsBase + (int)AllocatorFunction.Free] = 7;
        var statistics = TracerStatistics.FromCounters(stats, mismatchedRecords: 5);

        ulong Bit(MemleakAbi.Stat stat) => 1UL << (int)stat;
        Assert.Equal(Bit(MemleakAbi.Stat.Allocs), statistics.Allocations);
        Assert.Equal(Bit(MemleakAbi.Stat.NestedCalls), statistics.NestedCalls);
        Assert.Equal(7UL, statistics.Hits[AllocatorFunction.Free]);
        Assert.Equal(7UL, statistics.TotalHits);

        TraceLoss loss = statistics.ToLoss();
        Assert.Equal(Bit(MemleakAbi.Stat.MapFull), loss.MapFull);
        Assert.Equal(Bit(MemleakAbi.Stat.StackMapFull) | Bit(MemleakAbi.Stat.StackErrors), loss.StacksLost);
        Assert.Equal(Bit(MemleakAbi.Stat.MissedReturns) | Bit(MemleakAbi.Stat.NestingOverflow) | Bit(MemleakAbi.Stat.PendingErrors), loss.MissedReturns);
        Assert.Equal(Bit(MemleakAbi.Stat.RingbufDrops) | Bit(MemleakAbi.Stat.ProcessEventDrops), loss.RingBufferDrops);
        Assert.Equal(5UL, loss.MismatchedRecords);
    }
}
