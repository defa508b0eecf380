using System;
using System.Linq;
using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

/// <summary>The one /proc/PID/maps line parser, on recorded maps files and on broken lines.</summary>
public class MapsLineTests
{
    private static MapsLine Parse(string line)
    {
        Assert.True(MapsLine.TryParse(line, out MapsLine parsed, out string? problem), problem);
        return parsed;
    }

    [Fact]
    public void EveryLineOfRecordedMapsParses()
    {
        foreach (string sample in new[] { "sleep/maps", "odd/maps", "symbols/maps-deleted-binary.txt" })
        {
            string[] lines = Samples.Read(sample).TrimEnd('\n').Split('\n');
            Assert.All(lines, line => Assert.True(MapsLine.TryParse(line, out _, out string? problem), $"{sample}: {problem}"));
        }
    }

    [Fact]
    public void DeletedBinaryWithSpaceInPathParses()
    {
        string line = Samples.Read("symbols/maps-deleted-binary.txt").Split('\n')[1];
        MapsLine text = Parse(line);
        Assert.Equal(0x55e5716fb000UL, text.Start);
        Assert.Equal(0x55e5716fc000UL, text.End);
        Assert.Equal("r-xp", text.Permissions.ToString());
        Assert.Equal(0x1000UL, text.Offset);
        Assert.Equal(11658316UL, text.Inode);
        Assert.Equal("/tmp/rec dir/my app (deleted)", text.Path.ToString());
        Assert.True(text.IsDeleted);
        Assert.Equal("/tmp/rec dir/my app", text.PathWithoutDeleted.ToString());
    }

    [Fact]
    public void FirstLineOfRecordedMapsHasEveryField()
    {
        MapsLine first = Parse(Samples.Read("sleep/maps").Split('\n')[0]);
        Assert.Equal("r--p", first.Permissions.ToString());
        Assert.Equal("fe:00", first.Device.ToString());
        Assert.Equal(248174UL, first.Inode);
        Assert.Equal(0UL, first.Offset);
        Assert.Equal(8192UL, first.End - first.Start);
        Assert.Equal("/usr/bin/sleep", first.Path.ToString());
        Assert.False(first.IsDeleted);
    }

    [Theory]
    [InlineData("7f0000001000-7f0000002000 rw-p 00000000 00:00 0 ", "")]
    [InlineData("7f0000001000-7f0000002000 rw-p 00000000 00:00 0", "")]
    [InlineData("7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]", "[stack]")]
    [InlineData("7f0000001000-7f0000002000 rw-s 00000000 00:01 7 /dev/zero (deleted)", "/dev/zero (deleted)")]
    public void PathIsWhatFollowsTheInode(string line, string path)
    {
        Assert.Equal(path, Parse(line).Path.ToString());
    }

    [Theory]
    [InlineData("", "address range")]
    [InlineData("not a maps line", "address range")]
    [InlineData("7f0000002000 r-xp 00000000 08:01 41 /lib/a.so", "address range")]
    [InlineData("-7f0000002000 r-xp 00000000 08:01 41 /lib/a.so", "address range")]
    [InlineData("7f0000002000-7f0000001000 r-xp 00000000 08:01 41 /lib/a.so", "address range")]
    [InlineData("7f000000g000-7f0000002000 r-xp 00000000 08:01 41 /lib/a.so", "address range")]
    [InlineData("7f0000001000-17f0000000000000000 r-xp 00000000 08:01 41 /lib/a.so", "address range")]
    [InlineData("7f0000001000-7f0000002000 r-x 00000000 08:01 41 /lib/a.so", "permissions")]
    [InlineData("7f0000001000-7f0000002000", "permissions")]
    [InlineData("7f0000001000-7f0000002000 r-xp zz 08:01 41 /lib/a.so", "file offset")]
    [InlineData("7f0000001000-7f0000002000 r-xp 00000000 0801 41 /lib/a.so", "device")]
    [InlineData("7f0000001000-7f0000002000 r-xp 00000000 08:01", "inode")]
    [InlineData("7f0000001000-7f0000002000 r-xp 00000000 08:01 -41 /lib/a.so", "inode")]
    public void MalformedLinesSayWhatWasExpected(string line, string expected)
    {
        Assert.False(MapsLine.TryParse(line, out _, out string? problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void SmapsAndTheSymbolizerSeeTheSameLines()
    {
        // Both readers go through MapsLine: the same file gives the same ranges, offsets, inodes and deleted flags.
        string text = Samples.Read("symbols/maps-deleted-binary.txt");
        var smaps = LeakTools.Procfs.SmapsReader.ParseAll(text, "maps");
        var symbolizer = LeakTools.Symbols.SymbolizerMapsReader.Parse(text);
        Assert.Equal(
            smaps.Select(m => (m.Start, m.End, m.Offset, m.Inode, m.IsDeleted)),
            symbolizer.Select(m => (m.Start, m.End, m.Offset, m.Inode, m.Deleted)));
    }
}
