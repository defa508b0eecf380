using System;

namespace LeakTools.Model;

/// <summary>
/// The memory of one process at one moment, as top, ps and smem show it. Sizes are bytes.
/// With sampling, <see cref="Growth"/> and <see cref="BytesPerSecond"/> compare with the previous sample.
/// </summary>
public sealed class ProcessMemoryInfo
{
    public DateTime Timestamp { get; set; }
    /// <summary>1 for the first sample of a process, then 2, 3...</summary>
    public int Sample { get; set; }
    public int Id { get; set; }
    /// <summary>The kernel's command name (comm), as Get-Process shows it.</summary>
    public string Name { get; set; } = "";
    /// <summary>The arguments joined by blanks; empty for zombies.</summary>
    public string CommandLine { get; set; } = "";
    /// <summary>Resident set size: ps's RSS.</summary>
    public long Rss { get; set; }
    /// <summary>Resident anonymous memory (heap, stacks); null before Linux 4.5.</summary>
    public long? RssAnon { get; set; }
    /// <summary>Resident file-backed memory; null before Linux 4.5.</summary>
    public long? RssFile { get; set; }
    /// <summary>Resident shared memory (tmpfs, shm); null before Linux 4.5.</summary>
    public long? RssShmem { get; set; }
    /// <summary>Proportional set size; null when smaps_rollup cannot be read (another user's process without root).</summary>
    public long? Pss { get; set; }
    /// <summary>Unique set size (private clean + private dirty); null like <see cref="Pss"/>.</summary>
    public long? Uss { get; set; }
    public long? Swap { get; set; }
    /// <summary>Virtual size: ps's VSZ.</summary>
    public long Vsz { get; set; }
    /// <summary>Rss as a percentage of MemTotal: ps's %MEM.</summary>
    public double MemoryPercent { get; set; }
    public int Threads { get; set; }
    /// <summary>Rss change since the previous sample of this process; null for the first.</summary>
    public long? Growth { get; set; }
    /// <summary>Rss growth rate over the last interval, bytes per second; null for the first sample.</summary>
    public double? BytesPerSecond { get; set; }

    /// <summary>Start time in clock ticks after boot: tells a reused PID from the process that had it before.</summary>
    internal ulong StartTicks { get; set; }

    public override string ToString() => $"{Name} ({Id}): Rss {Rss / 1024} KiB";
}
