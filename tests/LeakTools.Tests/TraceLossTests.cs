using LeakTools.Model;
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
}
