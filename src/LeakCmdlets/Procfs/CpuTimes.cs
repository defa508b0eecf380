namespace LeakTools.Procfs;

/// <summary>
/// The aggregate "cpu" line of /proc/stat, in USER_HZ ticks. Columns the kernel added later are nullable.
/// The kernel already counts guest time inside user (and guest_nice inside nice).
/// </summary>
public sealed class CpuTimes
{
    public ulong User { get; set; }
    public ulong Nice { get; set; }
    public ulong System { get; set; }
    public ulong Idle { get; set; }
    /// <summary>Linux 2.5.41.</summary>
    public ulong? IoWait { get; set; }
    /// <summary>Linux 2.6.0.</summary>
    public ulong? Irq { get; set; }
    /// <summary>Linux 2.6.0.</summary>
    public ulong? SoftIrq { get; set; }
    /// <summary>Linux 2.6.11.</summary>
    public ulong? Steal { get; set; }
    /// <summary>Linux 2.6.24.</summary>
    public ulong? Guest { get; set; }
    /// <summary>Linux 2.6.33.</summary>
    public ulong? GuestNice { get; set; }
}
