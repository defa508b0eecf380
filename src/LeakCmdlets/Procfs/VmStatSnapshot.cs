using System;
using System.Diagnostics;
using LeakTools.Model;

namespace LeakTools.Procfs;

/// <summary>
/// The counters behind one vmstat line, taken at one moment. Two snapshots make a sample; one snapshot
/// alone makes the since-boot sample vmstat prints first.
/// </summary>
public sealed class VmStatSnapshot
{
    public required MemInfo Memory { get; init; }
    public required KernelStat Kernel { get; init; }
    public required VirtualMemoryCounters VirtualMemory { get; init; }
    public DateTime Timestamp { get; init; }
    /// <summary>Seconds since boot on the monotonic clock; the time base of the first sample.</summary>
    public double MonotonicSeconds { get; init; }

    public static VmStatSnapshot Take(SystemFiles files) => new()
    {
        Memory = files.ReadMemInfo(),
        Kernel = files.ReadKernelStat(),
        VirtualMemory = files.ReadVirtualMemoryCounters(),
        Timestamp = DateTime.Now,
        MonotonicSeconds = Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency,
    };

    /// <summary>vmstat's arithmetic: rates and CPU shares since <paramref name="previous"/>, or since boot when null.</summary>
    public VmStatSample ToSample(VmStatSnapshot? previous, int sampleNumber, int pageSize)
    {
        double seconds = previous is null ? MonotonicSeconds : MonotonicSeconds - previous.MonotonicSeconds;
        if (seconds <= 0) seconds = 1e-9;

        MemInfo m = Memory;
        var sample = new VmStatSample
        {
            Timestamp = Timestamp,
            Sample = sampleNumber,
            IntervalSeconds = seconds,
            Runnable = Kernel.ProcsRunning ?? 0,
            Blocked = Kernel.ProcsBlocked ?? 0,
            Total = m.MemTotal,
            SwapTotal = m.SwapTotal,
            SwapUsed = m.SwapTotal - m.SwapFree,
            Free = m.MemFree,
            Buffers = m.Buffers,
            Cache = m.Cached + (m.SReclaimable ?? 0),
            Available = m.MemAvailable,
            Active = m.Active,
            Inactive = m.Inactive,
            Dirty = m.Dirty,
            Slab = m.Slab,
        };

        VirtualMemoryCounters v = VirtualMemory, pv = previous?.VirtualMemory ?? new VirtualMemoryCounters();
        KernelStat k = Kernel, pk = previous?.Kernel ?? new KernelStat();
        sample.SwapInBytesPerSecond = Delta(v.PagesSwappedIn, pv.PagesSwappedIn) * (double)pageSize / seconds;
        sample.SwapOutBytesPerSecond = Delta(v.PagesSwappedOut, pv.PagesSwappedOut) * (double)pageSize / seconds;
        sample.BlocksInPerSecond = Delta(v.PagesPagedIn, pv.PagesPagedIn) / seconds;
        sample.BlocksOutPerSecond = Delta(v.PagesPagedOut, pv.PagesPagedOut) / seconds;
        sample.InterruptsPerSecond = Delta(k.Interrupts, pk.Interrupts) / seconds;
        sample.ContextSwitchesPerSecond = Delta(k.ContextSwitches, pk.ContextSwitches) / seconds;

        CpuTimes c = k.Cpu, pc = pk.Cpu;
        // The kernel counts guest time inside user and guest_nice inside nice; vmstat 4 reports it apart.
        double guest = Delta(c.Guest, pc.Guest) + Delta(c.GuestNice, pc.GuestNice);
        double user = Delta(c.User, pc.User) + Delta(c.Nice, pc.Nice);
        double system = Delta(c.System, pc.System) + Delta(c.Irq, pc.Irq) + Delta(c.SoftIrq, pc.SoftIrq);
        double idle = Delta(c.Idle, pc.Idle);
        double iowait = Delta(c.IoWait, pc.IoWait);
        double steal = Delta(c.Steal, pc.Steal);
        double total = user + system + idle + iowait + steal;
        if (total <= 0)
        {
            sample.IdlePercent = 100;
            return sample;
        }
        sample.UserPercent = 100 * Math.Max(0, user - guest) / total;
        sample.GuestPercent = 100 * guest / total;
        sample.SystemPercent = 100 * system / total;
        sample.IdlePercent = 100 * idle / total;
        sample.IoWaitPercent = 100 * iowait / total;
        sample.StealPercent = 100 * steal / total;
        return sample;
    }

    // Counters only grow, but a CPU going offline can make an aggregate step back: never a negative rate.
    private static double Delta(ulong? now, ulong? before) =>
        now is ulong n && n > (before ?? 0) ? n - (before ?? 0) : 0;
}
