using System;

namespace LeakTools.Analysis;

/// <summary>
/// When Find-MemoryLeak reports, from -Duration, -Interval and -Count:
/// one report after 5 s by default; -Interval and -Count give periodic reports like `memleak 5 3`;
/// -Duration 10 -Count 5 spreads five reports over ten seconds; -Count alone reports every 5 s;
/// -Command without -Duration waits for the exit.
/// Null means "no limit" (Ctrl+C, or the targets exiting, ends it).
/// </summary>
public sealed class ReportSchedule
{
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The shortest time between reports that -Count may spread over -Duration: a report reads the whole
    /// outstanding map and symbolizes it, which takes tens of milliseconds on a busy target.
    /// </summary>
    public static readonly TimeSpan MinimumSpreadInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Time between reports.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>When the trace ends.</summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>How many reports at most.</summary>
    public int Reports { get; init; }

    /// <summary>
    /// The largest -Count that <see cref="From"/> spreads over <paramref name="duration"/> without -Interval,
    /// or null when that combination does not apply.
    /// </summary>
    public static long? MaximumSpreadCount(TimeSpan? duration, TimeSpan? interval, int? count) =>
        duration is not null && interval is null && count is not null
            ? Math.Max(1, duration.Value.Ticks / MinimumSpreadInterval.Ticks)
            : null;

    /// <exception cref="ArgumentOutOfRangeException">-Count spreads reports closer than <see cref="MinimumSpreadInterval"/>.</exception>
    public static ReportSchedule From(TimeSpan? duration, TimeSpan? interval, int? count, bool untilTargetExits)
    {
        if (MaximumSpreadCount(duration, interval, count) is long most && count > most)
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"{count} reports over {duration!.Value.TotalSeconds} s would come less than {MinimumSpreadInterval.TotalSeconds} s apart.");
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

    /// <summary>
    /// When the report after the one due at <paramref name="due"/> is due, given that it ended at
    /// <paramref name="now"/>: one interval later, or, when reporting took longer than that, one interval
    /// from now. Reports that fell behind skip the missed turns instead of following each other back to back.
    /// </summary>
    public TimeSpan? NextAfter(TimeSpan due, TimeSpan now)
    {
        if (Interval is null) return null;
        var next = due + Interval.Value;
        return next > now ? next : now + Interval.Value;
    }
}
