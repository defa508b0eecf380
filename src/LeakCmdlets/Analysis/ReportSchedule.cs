using System;

namespace LeakTools.Analysis;

/// <summary>
/// When Find-MemoryLeak reports, from -Duration, -Interval and -Count:
/// one report after 5 s by default; -Interval and -Count give periodic reports like `memleak 5 3`;
/// -Duration 10 -Count 5 spreads five reports over ten seconds; -Command without -Duration waits for the exit.
/// Null means "no limit" (Ctrl+C, or the targets exiting, ends it).
/// </summary>
public sealed class ReportSchedule
{
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(5);

    /// <summary>Time between reports.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>When the trace ends.</summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>How many reports at most.</summary>
    public int Reports { get; init; }

    public static ReportSchedule From(TimeSpan? duration, TimeSpan? interval, int? count, bool untilTargetExits)
    {
        TimeSpan? every = interval
            ?? (duration is not null && count is not null ? duration.Value / count.Value : duration)
            ?? (untilTargetExits ? null : DefaultDuration);
        TimeSpan? deadline = duration ?? (interval is null && count is null && !untilTargetExits ? DefaultDuration : null);
        if (count is not null && every is not null && deadline is null) deadline = every.Value * count.Value;
        return new ReportSchedule
        {
            Interval = every,
            Deadline = deadline,
            Reports = count ?? (interval is null ? 1 : int.MaxValue),
        };
    }
}
