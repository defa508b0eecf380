using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

public class ProcessParserTests
{
    [Fact]
    public void StatOfANameWithSpacesAndParenthesesKeepsTheWholeName()
    {
        ProcessStat stat = ProcessStat.Parse(Samples.Read("odd/stat"), 4096);
        Assert.Equal("my (odd) proc", stat.Comm);
        Assert.Equal(14780, stat.ProcessId);
        Assert.Equal('S', stat.State);
        Assert.Equal(1, stat.Threads);
        Assert.Equal(2990080, stat.VirtualSize);
        Assert.Equal(412L * 4096, stat.Rss);
        Assert.False(stat.IsKernelThread);
    }

    [Fact]
    public void StatNameIsCutAtTheLastParenthesis()
    {
        ProcessStat stat = ProcessStat.Parse(Samples.Read("odd/stat-paren-in-name"), 4096);
        Assert.Equal("a) (b", stat.Comm);
        Assert.Equal(4242, stat.ProcessId);
        Assert.Equal(3UL, stat.UserTime);
        Assert.Equal(4UL, stat.SystemTime);
        Assert.Equal(7, stat.Threads);
    }

    [Fact]
    public void KernelThreadIsRecognisedFromItsFlags()
    {
        Assert.True(ProcessStat.Parse(Samples.Read("kthread/stat"), 4096).IsKernelThread);
        ProcessStatus status = ProcessStatus.Parse(Samples.Read("kthread/status"));
        Assert.Null(status.VmRSS);
        Assert.Null(status.VmSize);
    }

    [Theory]
    [InlineData("malformed/stat-no-paren")]
    [InlineData("malformed/stat-truncated")]
    [InlineData("malformed/empty")]
    public void MalformedStatFailsWithAClearError(string sample)
    {
        var e = Assert.Throws<ProcfsFormatException>(() => ProcessStat.Parse(Samples.Read(sample), 4096));
        Assert.Contains("/proc/PID/stat", e.Message);
    }

    [Fact]
    public void StatusConvertsSizesToBytes()
    {
        ProcessStatus status = ProcessStatus.Parse(Samples.Read("sleep/status"));
        Assert.Equal("sleep", status.Name);
        Assert.Equal(14782, status.ProcessId);
        Assert.Equal(0, status.UserId);
        Assert.Equal(1, status.Threads);
        Assert.NotNull(status.VmRSS);
        Assert.Equal(status.VmRSS, status.RssAnon + status.RssFile + status.RssShmem);
        Assert.Equal(0, status.VmRSS!.Value % 1024);
        Assert.False(status.IsKernelThread);
    }

    [Fact]
    public void StatusReadsTheCapabilitySets()
    {
        ProcessStatus status = ProcessStatus.Parse(Samples.Read("sleep/status"));
        Assert.Equal(0x1fffeffffffUL, status.PermittedCapabilities);
        Assert.Equal(0x1fffeffffffUL, status.EffectiveCapabilities);
        Assert.True(LinuxCapability.Has(status.EffectiveCapabilities!.Value, LinuxCapability.SysPtrace));
        Assert.False(LinuxCapability.Has(status.EffectiveCapabilities!.Value, 24));
        Assert.Equal(new[] { "CAP_SYS_RESOURCE" }, LinuxCapability.Names(0x1ffffffffffUL & ~status.EffectiveCapabilities!.Value));
    }

    [Fact]
    public void StatusRejectsACapabilitySetThatIsNotHex()
    {
        Assert.Throws<ProcfsFormatException>(() => ProcessStatus.Parse("Name:\tx\nPid:\t1\nCapEff:\tnot-hex\n"));
    }

    [Fact]
    public void StatTellsAZombieAndAKernelThreadApart()
    {
        ProcessStat zombie = ProcessStat.Parse("4242 (sleep) Z 4241 4241 1 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0", 4096);
        Assert.True(zombie.IsZombie);
        Assert.False(zombie.IsKernelThread);
        Assert.Equal("Process 4242 (sleep) has exited: it is a zombie, without memory, waiting for its parent (process 4241) to reap it.", zombie.DescribeWithoutMemory());
        ProcessStat kthread = ProcessStat.Parse(Samples.Read("kthread/stat"), 4096);
        Assert.False(kthread.IsZombie);
        Assert.EndsWith("is a kernel thread: it has no user-space memory.", kthread.DescribeWithoutMemory());
        Assert.Null(ProcessStat.Parse(Samples.Read("odd/stat"), 4096).DescribeWithoutMemory());
    }

    [Fact]
    public void StatusKeepsANameWithSpacesAndParentheses()
    {
        Assert.Equal("my (odd) proc", ProcessStatus.Parse(Samples.Read("odd/status")).Name);
    }

    [Fact]
    public void StatusAgreesWithStatAndStatm()
    {
        ProcessStatus status = ProcessStatus.Parse(Samples.Read("sleep/status"));
        ProcessStat stat = ProcessStat.Parse(Samples.Read("sleep/stat"), 4096);
        ProcessStatm statm = ProcessStatm.Parse(Samples.Read("sleep/statm"), 4096);
        // stat reads the per-CPU RSS counters approximately, status and statm exactly (Linux 6.2+): close, not equal.
        Assert.InRange(stat.Rss, status.VmRSS!.Value - 512 * 1024, status.VmRSS.Value + 512 * 1024);
        Assert.Equal(status.VmRSS, statm.Resident);
        Assert.Equal(status.VmSize, statm.Size);
        Assert.Equal(status.VmSize, stat.VirtualSize);
    }

    [Fact]
    public void StatusReadsTheNamespacePidChain()
    {
        ProcessStatus host = ProcessStatus.Parse(Samples.Read("sleep/status"));
        Assert.Equal(new[] { 14782 }, host.NamespaceProcessIds);
        Assert.Equal(14782, host.InnermostProcessId);

        // A process in a child pid namespace (unshare --pid --fork): our id for it, then its own.
        ProcessStatus nested = ProcessStatus.Parse(Samples.Read("container/status"));
        Assert.Equal(new[] { 8338, 1 }, nested.NamespaceProcessIds);
        Assert.Equal(1, nested.InnermostProcessId);
        Assert.Equal(8338, nested.ProcessId);
    }

    [Fact]
    public void StatusWithoutNSpidHasNoNamespaceIds()
    {
        // Kernels before 4.1 print no NSpid line.
        ProcessStatus status = ProcessStatus.Parse("Name:\tx\nPid:\t7\n");
        Assert.Null(status.NamespaceProcessIds);
        Assert.Null(status.InnermostProcessId);
    }

    [Fact]
    public void StatusReadsBoundingAndAmbientCapabilities()
    {
        ProcessStatus plain = ProcessStatus.Parse(Samples.Read("sleep/status"));
        Assert.Equal(0x1fffeffffffUL, plain.BoundingCapabilities);
        Assert.Equal(0UL, plain.AmbientCapabilities);

        // Started by setpriv --ambient-caps=+sys_ptrace --bounding-set=-sys_module.
        ProcessStatus reduced = ProcessStatus.Parse(Samples.Read("container/status"));
        Assert.Equal(new[] { "CAP_SYS_PTRACE" }, LinuxCapability.Names(reduced.AmbientCapabilities!.Value));
        Assert.False(LinuxCapability.Has(reduced.BoundingCapabilities!.Value, 16)); // CAP_SYS_MODULE
        Assert.Equal(0x1fffefeffffUL, reduced.BoundingCapabilities);
        Assert.Equal(reduced.BoundingCapabilities, reduced.EffectiveCapabilities);
    }

    [Theory]
    [InlineData("Name:\tx\nPid:\t1\nCapBnd:\t00000zz0\n")]
    [InlineData("Name:\tx\nPid:\t1\nCapAmb:\t\n")]
    [InlineData("Name:\tx\nPid:\t1\nNSpid:\t\n")]
    [InlineData("Name:\tx\nPid:\t1\nNSpid:\t12\t\t1\n")]
    [InlineData("Name:\tx\nPid:\t1\nNSpid:\t4294967296\n")]
    public void StatusRejectsMalformedCapabilitiesAndNamespaceIds(string text)
    {
        Assert.Throws<ProcfsFormatException>(() => ProcessStatus.Parse(text));
    }

    [Theory]
    [InlineData("malformed/status-truncated")]
    [InlineData("malformed/status-bad-nspid")]
    [InlineData("malformed/empty")]
    public void MalformedStatusFailsWithAClearError(string sample)
    {
        Assert.Throws<ProcfsFormatException>(() => ProcessStatus.Parse(Samples.Read(sample)));
    }

    [Fact]
    public void TruncatedStatmFailsWithAClearError()
    {
        var e = Assert.Throws<ProcfsFormatException>(() => ProcessStatm.Parse(Samples.Read("malformed/statm-truncated"), 4096));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void CommandLineArgumentsAreJoinedByBlanks()
    {
        Assert.Equal("sleep 60", ProcessFiles.FormatCommandLine("sleep\u000060\u0000"));
        Assert.Equal("", ProcessFiles.FormatCommandLine(""));
    }
}
