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
        Assert.True(loss.GrewSince(new TraceLoss()));
        Assert.False(loss.GrewSince(new TraceLoss { MismatchedRecords = 3 }));
    }

    [Fact]
    public void AnyCounterThatGrowsIsNewLoss()
    {
        var warned = new TraceLoss { MapFull = 1, StacksLost = 1, MissedReturns = 1, RingBufferDrops = 1, MismatchedRecords = 1 };
        Assert.False(new TraceLoss { MapFull = 1, StacksLost = 1, MissedReturns = 1, RingBufferDrops = 1, MismatchedRecords = 1 }.GrewSince(warned));
        Assert.True(new TraceLoss { MapFull = 2, StacksLost = 1, MissedReturns = 1, RingBufferDrops = 1, MismatchedRecords = 1 }.GrewSince(warned));
        Assert.True(new TraceLoss { MapFull = 1, StacksLost = 2, MissedReturns = 1, RingBufferDrops = 1, MismatchedRecords = 1 }.GrewSince(warned));
        Assert.True(new TraceLoss { MapFull = 1, StacksLost = 1, MissedReturns = 2, RingBufferDrops = 1, MismatchedRecords = 1 }.GrewSince(warned));
        Assert.True(new TraceLoss { MapFull = 1, StacksLost = 1, MissedReturns = 1, RingBufferDrops = 2, MismatchedRecords = 1 }.GrewSince(warned));
        Assert.True(new TraceLoss { MapFull = 1, StacksLost = 1, MissedReturns = 1, RingBufferDrops = 1, MismatchedRecords = 2 }.GrewSince(warned));
    }
}
