using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

/// <summary>
/// /proc/PID/fdinfo flags, on files recorded from pipes: a close-on-exec write end (what the launcher's exec-status
/// pipe looks like), a close-on-exec read end and an inheritable write end.
/// </summary>
public class FileDescriptorInfoTests
{
    private const int CloseOnExec = 0x80000; // O_CLOEXEC, octal 02000000

    [Theory]
    [InlineData("fdinfo/pipe-write-cloexec", CloseOnExec | 1)]
    [InlineData("fdinfo/pipe-read-cloexec", CloseOnExec)]
    [InlineData("fdinfo/pipe-write-inheritable", 1)]
    public void FlagsAreReadAsOctal(string sample, int flags)
    {
        Assert.Equal(flags, FileDescriptorInfo.ParseFlags(Samples.Read(sample)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("pos:\t0\nmnt_id:\t16\n")]
    [InlineData("pos:\t0\nflags:\t\n")]
    [InlineData("pos:\t0\nflags:\t02000008\n")]
    [InlineData("pos:\t0\nflags:\t-1\n")]
    [InlineData("pos:\t0\nflags:\t777777777777\n")]
    public void MissingOrMalformedFlagsAreNull(string text)
    {
        Assert.Null(FileDescriptorInfo.ParseFlags(text));
    }
}
