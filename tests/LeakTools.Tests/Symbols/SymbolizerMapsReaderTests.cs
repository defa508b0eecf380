using System;
using System.IO;
using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

public class SymbolizerMapsReaderTests
{
    private static SymbolizerMapping[] Recorded() =>
        SymbolizerMapsReader.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", "proc", "symbols", "maps-deleted-binary.txt")));

    [Fact]
    public void DeletedBinaryWithSpaceInPathParses()
    {
        SymbolizerMapping[] maps = Recorded();
        Assert.Equal(24, maps.Length);
        SymbolizerMapping text = maps[1];
        Assert.Equal(0x55e5716fb000UL, text.Start);
        Assert.Equal(0x55e5716fc000UL, text.End);
        Assert.Equal(0x1000UL, text.Offset);
        Assert.Equal("/tmp/rec dir/my app", text.Path);
        Assert.True(text.Deleted);
        Assert.True(text.IsExecutable);
        Assert.True(text.IsFileBacked);
        Assert.Equal("55e5716fb000-55e5716fc000", text.Range);
        Assert.Equal(11658316UL, text.Inode);
    }

    [Fact]
    public void AnonymousAndSpecialMappingsAreNotFileBacked()
    {
        SymbolizerMapping[] maps = Recorded();
        Assert.Contains(maps, m => m.Path == "[vdso]" && m.IsExecutable && !m.IsFileBacked);
        Assert.Contains(maps, m => m.Path == "[heap]" && !m.IsFileBacked);
        Assert.Contains(maps, m => m.Path.Length == 0 && !m.IsFileBacked);
        Assert.Equal(0xffffffffff601000UL, maps[^1].End);
    }

    [Fact]
    public void GarbageLinesAreSkippedAndResultIsSorted()
    {
        SymbolizerMapping[] maps = SymbolizerMapsReader.Parse(
            "7f0000002000-7f0000003000 r-xp 00000000 08:01 42 /lib/b.so\nnot a maps line\n7f0000000000-7f0000001000 r-xp 00000000 08:01 41 /lib/a.so\n");
        Assert.Equal(2, maps.Length);
        Assert.Equal("/lib/a.so", maps[0].Path);
        Assert.False(maps[0].Deleted);
    }

    [Fact]
    public void RangeIsTheMapFilesNameWithoutMapsPadding()
    {
        // A non-PIE binary at 0x400000: maps pads to 8 digits, map_files does not.
        SymbolizerMapping[] maps = SymbolizerMapsReader.Parse("00400000-00401000 r-xp 00000000 08:01 41 /usr/bin/app\n");
        Assert.Equal("400000-401000", maps[0].Range);
    }
}
