using System;
using System.Diagnostics;
using LeakTools.Reachability;
using Xunit;

namespace LeakTools.Tests.Reachability;

public unsafe class SnapshotBufferTests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void ReservesTheMachineAndPrefaultsOnlyWhatIsAskedFor()
    {
        using var buffer = SnapshotBuffer.Allocate(10 * MiB, reserveMachine: true);
        Assert.Equal(0UL, (ulong)buffer.Start % (2 * MiB));
        Assert.True(buffer.Capacity >= (ulong)GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2, $"capacity {buffer.Capacity}");
        Assert.Equal(0UL, buffer.Prefaulted);

        buffer.Prefault(5 * MiB);
        Assert.Equal(6 * MiB, buffer.Prefaulted);   // whole 2 MiB pages
        buffer.Start[6 * MiB - 1] = 0x5a;
        buffer.Prefault(3 * MiB);                   // never shrinks, never touches again
        Assert.Equal(6 * MiB, buffer.Prefaulted);
        Assert.Equal(0x5a, buffer.Start[6 * MiB - 1]);
    }

    [Fact]
    public void MapsTheSizeAskedForWithoutTheReservation()
    {
        using var buffer = SnapshotBuffer.Allocate(3 * MiB, reserveMachine: false);
        Assert.Equal(4 * MiB, buffer.Capacity);
        buffer.Prefault(100 * MiB);                 // clamped to the capacity
        Assert.Equal(4 * MiB, buffer.Prefaulted);
    }

    [Fact]
    public void StopsPrefaultingBetweenSteps()
    {
        using var buffer = SnapshotBuffer.Allocate(256 * MiB, reserveMachine: false);
        int asked = 0;
        buffer.Prefault(256 * MiB, () => ++asked > 1);
        Assert.Equal(64 * MiB, buffer.Prefaulted);  // one 64 MiB step, then the stop
    }

    [Fact]
    public void PreparerLendsOneSnapshotAtATimeAndFreesTheBufferWhenBothAreDone()
    {
        var preparer = new SnapshotPreparer(Environment.ProcessId, inBackground: false);
        var first = preparer.Take();
        Assert.Throws<InvalidOperationException>(() => preparer.Take());
        first.Dispose();
        var second = preparer.Take();
        preparer.Dispose();                          // while lent: the buffer stays until the snapshot gives it back
        second.Dispose();
    }

    [Fact]
    public void PreparerKeepsTheBufferReadyInTheBackground()
    {
        using var preparer = new SnapshotPreparer(Environment.ProcessId);
        ulong wanted = MemorySnapshot.EstimateBytes(Environment.ProcessId);
        Assert.True(wanted > 0);
        var watch = Stopwatch.StartNew();
        while (!preparer.IsReadyFor(wanted) && watch.Elapsed < TimeSpan.FromSeconds(30)) System.Threading.Thread.Sleep(50);
        Assert.True(preparer.IsReadyFor(wanted), "the background thread prefaulted less than the process's writable memory within 30 s");
    }

    [Fact]
    public void PreparerReadsTheTargetOnceMoreWhenAReportIsDueSoon()
    {
        using var chain = PointerChain.Start(1000);   // a target that no longer grows
        using var preparer = new SnapshotPreparer(chain.ProcessId);
        Assert.True(WaitFor(() => preparer.WarmUps > 0, TimeSpan.FromSeconds(10)), "the background thread never read the target");
        int before = preparer.WarmUps;
        Assert.False(WaitFor(() => preparer.WarmUps > before, TimeSpan.FromSeconds(2.5)), "read again though the target did not grow");
        preparer.ReportSoon();
        Assert.True(WaitFor(() => preparer.WarmUps > before, TimeSpan.FromSeconds(2.5)), "not read again within a look of being told a report is due");
    }

    private static bool WaitFor(Func<bool> condition, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (!condition() && watch.Elapsed < limit) System.Threading.Thread.Sleep(20);
        return condition();
    }
}
