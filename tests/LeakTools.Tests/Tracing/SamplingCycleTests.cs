using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>
/// Find-MemoryLeak -SampleRate's clock. The promise it backs: a site leaking 1 KiB/s is found within a minute. Made of
/// allocations of at most 1 KiB, such a leak allocates at least once a second, so every recording window (a second
/// long) holds one of its allocations whatever their phase; the first window starts at once, and one begins every
/// rate ± 0.5 windows after. (A leak of rarer, larger blocks is caught with the probability of its block falling in a
/// window, 1/rate each.)
/// </summary>
public class SamplingCycleTests
{
    /// <summary>The recording windows over <paramref name="seconds"/>, advanced every 200 ms as Find-MemoryLeak does.</summary>
    private static List<(double Start, double End)> RecordingWindows(uint rate, int seed, double seconds)
    {
        var cycle = new SamplingCycle(rate, new Random(seed));
        var windows = new List<(double Start, double End)>();
        double start = 0;
        for (int tick = 0; tick <= seconds * 5; tick++)
        {
            double t = tick / 5.0;
            var before = cycle.Current;
            if (!cycle.Advance(TimeSpan.FromSeconds(t))) continue;
            if (before == SamplingCycle.Phase.Recording) windows.Add((start, t));
            if (cycle.Current == SamplingCycle.Phase.Recording) start = t;
        }
        if (cycle.Current == SamplingCycle.Phase.Recording) windows.Add((start, seconds));
        return windows;
    }

    [Theory]
    [InlineData(4u)]
    [InlineData(10u)]
    [InlineData(20u)]
    public void ALeakOfOneAllocationPerSecond_IsRecordedInEveryWindow_AndWithinAMinute(uint rate)
    {
        for (int seed = 0; seed < 50; seed++)
        {
            var windows = RecordingWindows(rate, seed, 60);
            Assert.Equal(0, windows[0].Start);
            Assert.All(windows.Take(windows.Count - 1), w => Assert.True(w.End - w.Start >= 1 - 1e-9, $"a {w.End - w.Start} s window"));
            // A leak allocating at a random phase once a second.
            double phase = new Random(seed + 1000).NextDouble();
            int recorded = 0;
            for (double t = phase; t < 60; t += 1) if (windows.Any(w => t >= w.Start && t < w.End)) recorded++;
            Assert.True(recorded >= 60 / (rate + 0.5) - 1, $"rate {rate}, seed {seed}: {recorded} of 60 allocations recorded");
            // The estimate (the sample times the rate) is within a third of the 60 allocations made.
            Assert.InRange(recorded * (double)rate, 40, 80);
        }
    }

    [Fact]
    public void ACycleIsRecordingThenFreesOnlyThenOff()
    {
        var cycle = new SamplingCycle(10, new Random(1));
        Assert.Equal(SamplingCycle.Phase.Recording, cycle.Current);
        Assert.False(cycle.Advance(TimeSpan.FromSeconds(0.8)));
        Assert.True(cycle.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(SamplingCycle.Phase.FreesOnly, cycle.Current);
        Assert.True(cycle.Advance(TimeSpan.FromSeconds(2)));
        Assert.Equal(SamplingCycle.Phase.Off, cycle.Current);
        Assert.InRange(cycle.PhaseEnd.TotalSeconds, 9.5, 10.5);
        Assert.True(cycle.Advance(cycle.PhaseEnd));
        Assert.Equal(SamplingCycle.Phase.Recording, cycle.Current);
        Assert.Equal(2, cycle.Windows);
    }

    [Fact]
    public void RatesBelowThree_KeepTheProbesOnWithoutAnOffPhaseLongerThanNothing()
    {
        var cycle = new SamplingCycle(2, new Random(1));
        cycle.Advance(TimeSpan.FromSeconds(1));
        cycle.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(SamplingCycle.Phase.Off, cycle.Current);
        Assert.Equal(TimeSpan.FromSeconds(2), cycle.PhaseEnd);
    }
}
