using System.Diagnostics;
using System.IO;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>FileIdentity's statx against coreutils' stat, on a real file.</summary>
public class FileIdentityTests
{
    [Fact]
    public void TheInodeIsTheOneStatReports()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var stat = Process.Start(new ProcessStartInfo("stat", new[] { "-c", "%i", path }) { RedirectStandardOutput = true })!;
            ulong expected = ulong.Parse(stat.StandardOutput.ReadToEnd().Trim());
            stat.WaitForExit();
            Assert.True(FileIdentity.TryGetInode(path, out ulong inode));
            Assert.Equal(expected, inode);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AMissingFileHasNoInode()
    {
        Assert.False(FileIdentity.TryGetInode("/nonexistent/leaktools-no-such-file", out ulong inode));
        Assert.Equal(0ul, inode);
    }
}
