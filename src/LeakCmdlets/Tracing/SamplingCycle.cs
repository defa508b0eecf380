using System;

namespace LeakTools.Tracing;

/// <summary>
/// The clock of <see cref="SampledProbes"/>, apart from the probes (so it can be tested on its own): one
/// <see cref="Window"/> of recording, one of frees only, then off for the rest of a cycle of about
/// <c>rate</c> windows, jittered by up to half a window either way so that a periodic leak cannot fall between the
/// windows every time. The first window starts at once.
/// </summary>
internal sealed class SamplingCycle
{
    /// <summary>How long allocations are recorded in each cycle, and how long the frees are watched after.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    public enum Phase { Recording, FreesOnly, Off }

    private readonly uint _rate;
    private readonly Random _random;

    public SamplingCycle(uint rate, Random random)
    {
        _rate = Math.Max(2, rate);
        _random = random;
        PhaseEnd = Window;
    }

    public uint Rate => _rate;

    public Phase Current { get; private set; } = Phase.Recording;

    /// <summary>When the current phase is over (time since the trace started).</summary>
    public TimeSpan PhaseEnd { get; private set; }

    /// <summary>When the current cycle's recording window began.</summary>
    public TimeSpan CycleStart { get; private set; }

    /// <summary>How many recording windows have begun (the first at 0).</summary>
    public int Windows { get; private set; } = 1;

    /// <summary>Moves to the next phase when the current one is over at <paramref name="now"/>; true when it did.</summary>
    public bool Advance(TimeSpan now)
    {
        if (now < PhaseEnd) return false;
        switch (Current)
        {
            case Phase.Recording:
                Current = Phase.FreesOnly;
                PhaseEnd = now + Window;
                break;
            case Phase.FreesOnly:
                Current = Phase.Off;
                PhaseEnd = CycleStart + NextCycleLength();
                break;
            default:
                Current = Phase.Recording;
                CycleStart = now;
                PhaseEnd = now + Window;
                Windows++;
                break;
        }
        return true;
    }

    /// <summary>About <see cref="Rate"/> windows, ± half a window (never shorter than the two windows with probes).</summary>
    private TimeSpan NextCycleLength()
    {
        double windows = _rate >= 3 ? _rate + (_random.NextDouble() - 0.5) : _rate;
        return Window * Math.Max(2, windows);
    }
}
