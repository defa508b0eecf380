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

    [Theory]
    [InlineData("malformed/status-truncated")]
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
