using System;

namespace LeakTools.Model;

/// <summary>
/// One line of vmstat as an object. Memory figures are bytes (the default view shows KiB, like vmstat);
/// rates and CPU percentages cover <see cref="IntervalSeconds"/>: the time since boot for the first sample,
/// the interval for the later ones.
/// </summary>
public sealed class VmStatSample
{
    public DateTime Timestamp { get; set; }
    public int Sample { get; set; }
    public double IntervalSeconds { get; set; }

    /// <summary>vmstat r: runnable tasks.</summary>
    public int Runnable { get; set; }
    /// <summary>vmstat b: tasks blocked on I/O.</summary>
    public int Blocked { get; set; }

    public long Total { get; set; }
    /// <summary>vmstat swpd: SwapTotal - SwapFree.</summary>
    public long SwapUsed { get; set; }
    public long SwapTotal { get; set; }
    /// <summary>vmstat free: MemFree.</summary>
    public long Free { get; set; }
    /// <summary>vmstat buff: Buffers.</summary>
    public long Buffers { get; set; }
    /// <summary>vmstat cache: Cached + SReclaimable.</summary>
    public long Cache { get; set; }
    /// <summary>MemAvailable; null before Linux 3.14.</summary>
    public long? Available { get; set; }
    public long Active { get; set; }
    public long Inactive { get; set; }
    public long Dirty { get; set; }
    public long Slab { get; set; }

    /// <summary>vmstat si, in bytes per second (vmstat shows KiB/s).</summary>
    public double SwapInBytesPerSecond { get; set; }
    /// <summary>vmstat so, in bytes per second (vmstat shows KiB/s).</summary>
    public double SwapOutBytesPerSecond { get; set; }
    /// <summary>vmstat bi: 1 KiB blocks read per second.</summary>
    public double BlocksInPerSecond { get; set; }
    /// <summary>vmstat bo: 1 KiB blocks written per second.</summary>
    public double BlocksOutPerSecond { get; set; }
    /// <summary>vmstat in.</summary>
    public double InterruptsPerSecond { get; set; }
    /// <summary>vmstat cs.</summary>
    public double ContextSwitchesPerSecond { get; set; }

    /// <summary>vmstat us: user + nice time, guest time excluded.</summary>
    public double UserPercent { get; set; }
    /// <summary>vmstat sy: system + irq + softirq.</summary>
    public double SystemPercent { get; set; }
    public double IdlePercent { get; set; }
    public double IoWaitPercent { get; set; }
    public double StealPercent { get; set; }
    /// <summary>vmstat gu: time running guests.</summary>
    public double GuestPercent { get; set; }

    public override string ToString() =>
        $"{Timestamp:HH:mm:ss} free {Free / 1024} KiB, cache {Cache / 1024} KiB, us {UserPercent:0} sy {SystemPercent:0} id {IdlePercent:0}";
}
