using LeakTools.Model;
using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

public class SystemParserTests
{
    [Fact]
    public void MemInfoConvertsKiloBytesToBytes()
    {
        MemInfo info = MemInfo.Parse(Samples.Read("system/meminfo"));
        Assert.Equal(24731708L * 1024, info.MemTotal);
        Assert.Equal(22343264L * 1024, info.MemFree);
        Assert.Equal(23974212L * 1024, info.MemAvailable);
        Assert.Equal(80588L * 1024, info.SReclaimable);
        Assert.Equal(105304L * 1024, info.Slab);
    }

    [Fact]
    public void MemInfoWithoutOptionalFieldsLeavesThemNull()
    {
        MemInfo info = MemInfo.Parse("MemTotal: 100 kB\nMemFree: 50 kB\nBuffers: 1 kB\nCached: 2 kB\n");
        Assert.Null(info.MemAvailable);
        Assert.Null(info.SReclaimable);
        Assert.Equal(100 * 1024, info.MemTotal);
    }

    [Theory]
    [InlineData("malformed/meminfo-truncated")]
    [InlineData("malformed/meminfo-bad-unit")]
    [InlineData("malformed/empty")]
    public void MalformedMemInfoFailsWithAClearError(string sample)
    {
        var e = Assert.Throws<ProcfsFormatException>(() => MemInfo.Parse(Samples.Read(sample)));
        Assert.Contains("/proc/meminfo", e.Message);
    }

    [Fact]
    public void KernelStatReadsCpuInterruptsAndContextSwitches()
    {
        KernelStat stat = KernelStat.Parse(Samples.Read("system/stat"));
        Assert.Equal(40447UL, stat.Cpu.User);
        Assert.Equal(4987UL, stat.Cpu.System);
        Assert.Equal(112550UL, stat.Cpu.Idle);
        Assert.Equal(1376UL, stat.Cpu.IoWait);
        Assert.Equal(52UL, stat.Cpu.Steal);
        Assert.Equal(0UL, stat.Cpu.GuestNice);
        Assert.Equal(498161UL, stat.Interrupts);
        Assert.Equal(1143919UL, stat.ContextSwitches);
        Assert.Equal(1795706959L, stat.BootTime);
        Assert.Equal(3, stat.ProcsRunning);
        Assert.Equal(0, stat.ProcsBlocked);
    }

    [Fact]
    public void OldKernelCpuLineLeavesLaterColumnsNull()
    {
        KernelStat stat = KernelStat.Parse("cpu 1 2 3 4 5\nctxt 9\n");
        Assert.Equal(5UL, stat.Cpu.IoWait);
        Assert.Null(stat.Cpu.Steal);
        Assert.Null(stat.Cpu.Guest);
        Assert.Null(stat.ProcsRunning);
    }

    [Theory]
    [InlineData("malformed/stat-system-bad-number")]
    [InlineData("malformed/empty")]
    public void MalformedKernelStatFailsWithAClearError(string sample)
    {
        var e = Assert.Throws<ProcfsFormatException>(() => KernelStat.Parse(Samples.Read(sample)));
        Assert.Contains("/proc/stat", e.Message);
    }

    [Fact]
    public void VmStatCountersAreRead()
    {
        VirtualMemoryCounters counters = VirtualMemoryCounters.Parse(Samples.Read("system/vmstat"));
        Assert.True(counters.PagesPagedIn > 0);
        Assert.True(counters.PagesPagedOut > 0);
        Assert.Equal(0UL, counters.PagesSwappedIn);
        Assert.Throws<ProcfsFormatException>(() => VirtualMemoryCounters.Parse(""));
    }

    [Fact]
    public void FirstSampleCoversTheTimeSinceBootAndLaterOnesTheInterval()
    {
        var first = Snapshot(user: 100, system: 50, idle: 850, ctxt: 1000, pgpgin: 500, pswpin: 10, seconds: 100);
        VmStatSample since = first.ToSample(null, 1, 4096);
        Assert.Equal(100, since.IntervalSeconds, 6);
        Assert.Equal(10, since.ContextSwitchesPerSecond, 6);
        Assert.Equal(5, since.BlocksInPerSecond, 6);
        Assert.Equal(10 * 4096 / 100.0, since.SwapInBytesPerSecond, 6);
        Assert.Equal(10, since.UserPercent, 6);
        Assert.Equal(5, since.SystemPercent, 6);
        Assert.Equal(85, since.IdlePercent, 6);

        var second = Snapshot(user: 150, system: 50, idle: 900, ctxt: 1100, pgpgin: 500, pswpin: 10, seconds: 102);
        VmStatSample interval = second.ToSample(first, 2, 4096);
        Assert.Equal(2, interval.IntervalSeconds, 6);
        Assert.Equal(50, interval.ContextSwitchesPerSecond, 6);
        Assert.Equal(0, interval.BlocksInPerSecond, 6);
        Assert.Equal(50, interval.UserPercent, 6);
        Assert.Equal(50, interval.IdlePercent, 6);
    }

    [Fact]
    public void VmStatMemoryColumnsFollowProcps()
    {
        var snapshot = Snapshot(user: 1, system: 1, idle: 1, ctxt: 1, pgpgin: 1, pswpin: 0, seconds: 1);
        VmStatSample sample = snapshot.ToSample(null, 1, 4096);
        Assert.Equal((3000L - 1000L) * 1024, sample.SwapUsed);
        Assert.Equal((400L + 60L) * 1024, sample.Cache); // Cached + SReclaimable
        Assert.Equal(200L * 1024, sample.Free);
    }

    [Fact]
    public void GuestTimeIsReportedApartFromUserTime()
    {
        var before = Snapshot(user: 0, system: 0, idle: 0, ctxt: 0, pgpgin: 0, pswpin: 0, seconds: 1);
        var after = Snapshot(user: 60, system: 0, idle: 40, ctxt: 0, pgpgin: 0, pswpin: 0, seconds: 2, guest: 20);
        VmStatSample sample = after.ToSample(before, 2, 4096);
        Assert.Equal(40, sample.UserPercent, 6);
        Assert.Equal(20, sample.GuestPercent, 6);
        Assert.Equal(40, sample.IdlePercent, 6);
    }

    private static VmStatSnapshot Snapshot(ulong user, ulong system, ulong idle, ulong ctxt, ulong pgpgin, ulong pswpin, double seconds, ulong guest = 0) => new()
    {
        Memory = MemInfo.Parse("MemTotal: 1000 kB\nMemFree: 200 kB\nBuffers: 10 kB\nCached: 400 kB\nSReclaimable: 60 kB\nSwapTotal: 3000 kB\nSwapFree: 1000 kB\n"),
        Kernel = new KernelStat
        {
            Cpu = new CpuTimes { User = user, System = system, Idle = idle, IoWait = 0, Irq = 0, SoftIrq = 0, Steal = 0, Guest = guest, GuestNice = 0 },
            ContextSwitches = ctxt,
        },
        VirtualMemory = new VirtualMemoryCounters { PagesPagedIn = pgpgin, PagesSwappedIn = pswpin },
        MonotonicSeconds = seconds,
    };
}
