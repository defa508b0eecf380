using System;
using System.Runtime.InteropServices;
using LeakTools.Interop;
using LeakTools.Module;

namespace LeakTools.Tracing;

/// <summary>CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(), and its translation to wall-clock time.</summary>
public static partial class MonotonicClock
{
    private const int ClockMonotonic = 1;

    static MonotonicClock() => NativeLibraryResolver.EnsureRegistered();

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [LibraryImport(LibraryNames.Libc, EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    public static ulong NowNs()
    {
        ClockGetTime(ClockMonotonic, out var ts);
        return (ulong)ts.Seconds * 1_000_000_000UL + (ulong)ts.Nanoseconds;
    }

    /// <summary>Local wall-clock time of a CLOCK_MONOTONIC timestamp (offset taken now; good to the microsecond).</summary>
    public static DateTime ToDateTime(ulong ns) => Anchor.Take().ToDateTime(ns);

    /// <summary>
    /// A wall-clock time and the CLOCK_MONOTONIC time read with it. A stream of events converts through one
    /// anchor: a new pair per event jitters by microseconds (two clock reads), which put the events of one
    /// thread out of order, and costs two clock reads per event.
    /// </summary>
    public readonly record struct Anchor(DateTime Now, ulong NowNs)
    {
        public static Anchor Take() => new(DateTime.Now, MonotonicClock.NowNs());

        public DateTime ToDateTime(ulong ns)
        {
            long deltaNs = (long)(NowNs - ns);   // positive for past timestamps; wraps correctly for future ones
            return Now.AddTicks(-deltaNs / 100);
        }
    }
}
