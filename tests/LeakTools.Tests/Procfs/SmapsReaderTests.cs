using System.Linq;
using LeakTools.Model;
using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

public class SmapsReaderTests
{
    [Fact]
    public void SmapsAndMapsListTheSameMappings()
    {
        var smaps = SmapsReader.ParseAll(Samples.Read("sleep/smaps"));
        var maps = SmapsReader.ParseAll(Samples.Read("sleep/maps"));
        Assert.Equal(Samples.Read("sleep/maps").TrimEnd('\n').Split('\n').Length, maps.Count);
        Assert.Equal(maps.Count, smaps.Count);
        Assert.Equal(maps.Select(m => (m.Start, m.End, m.Path)), smaps.Select(m => (m.Start, m.End, m.Path)));
        Assert.All(maps, m => Assert.Null(m.Rss));
    }

    [Fact]
    public void SmapsTotalsMatchSmapsRollup()
    {
        var smaps = SmapsReader.ParseAll(Samples.Read("sleep/smaps"));
        MemoryMapping rollup = SmapsReader.ParseAll(Samples.Read("sleep/smaps_rollup")).Single();
        Assert.Equal(rollup.Rss, smaps.Sum(m => m.Rss));
        Assert.Equal(rollup.PrivateDirty, smaps.Sum(m => m.PrivateDirty));
        Assert.Equal(rollup.Anonymous, smaps.Sum(m => m.Anonymous));
        Assert.True(rollup.OtherFields.ContainsKey("Pss_Anon"), "rollup-only fields go to OtherFields");
    }

    [Fact]
    public void HeaderAndFieldsAreParsedIntoBytes()
    {
        MemoryMapping first = SmapsReader.ParseAll(Samples.Read("sleep/smaps")).First();
        Assert.Equal("/usr/bin/sleep", first.Path);
        Assert.Equal(MappingKind.File, first.Kind);
        Assert.Equal("r--p", first.Permissions);
        Assert.Equal("fe:00", first.Device);
        Assert.Equal(248174UL, first.Inode);
        Assert.Equal(0UL, first.Offset);
        Assert.Equal(8192, first.Size);
        Assert.Equal((long)(first.End - first.Start), first.Size);
        Assert.Equal(4096, first.KernelPageSize);
        Assert.Equal("rd mr mw me", first.VmFlags);
        Assert.NotNull(first.Rss);
        Assert.Empty(first.OtherFields);
    }

    [Fact]
    public void KindsFollowTheKernelsPseudoPaths()
    {
        var kinds = SmapsReader.ParseAll(Samples.Read("sleep/smaps")).Select(m => m.Kind).ToList();
        Assert.Contains(MappingKind.Heap, kinds);
        Assert.Contains(MappingKind.Stack, kinds);
        Assert.Contains(MappingKind.Vdso, kinds);
        Assert.Contains(MappingKind.Vvar, kinds);
        Assert.Contains(MappingKind.Vsyscall, kinds);
        Assert.Contains(MappingKind.Anonymous, kinds);
    }

    [Fact]
    public void SpecialMappingsAreClassifiedAndUnknownFieldsKept()
    {
        var maps = SmapsReader.ParseAll(Samples.Read("sleep/smaps-special"));
        MemoryMapping deleted = maps[0];
        Assert.Equal("/opt/my app/bin (deleted)", deleted.Path);
        Assert.True(deleted.IsDeleted);
        Assert.Equal(MappingKind.File, deleted.Kind);
        Assert.Equal(12L * 1024, deleted.OtherFields["FutureField"]);
        Assert.Equal(7L, deleted.OtherFields["FutureFlag"]);
        Assert.Equal("hello world", deleted.OtherFields["FutureText"]);
        Assert.Equal(4096, deleted.Rss);
        Assert.Equal(
            new[]
            {
                MappingKind.File, MappingKind.SharedMemory, MappingKind.SharedMemory, MappingKind.SharedMemory,
                MappingKind.SharedMemory, MappingKind.Anonymous, MappingKind.SharedMemory, MappingKind.AnonymousInode,
                MappingKind.Other, MappingKind.Stack, MappingKind.Vvar, MappingKind.Vdso, MappingKind.Anonymous, MappingKind.Vsyscall,
            },
            maps.Select(m => m.Kind));
        Assert.Equal("", maps[^2].Path);
        Assert.Equal(0xffffffffff600000UL, maps[^1].Start);
    }

    [Theory]
    [InlineData("malformed/smaps-truncated", "line")]
    [InlineData("malformed/smaps-missing-unit", "kB")]
    [InlineData("malformed/smaps-bad-range", "address range")]
    [InlineData("malformed/smaps-field-first", "before any mapping")]
    public void MalformedSmapsFailsWithAClearError(string sample, string expected)
    {
        var e = Assert.Throws<ProcfsFormatException>(() => SmapsReader.ParseAll(Samples.Read(sample), "test-smaps"));
        Assert.Contains("test-smaps", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.True(e.LineNumber > 0);
    }

    [Fact]
    public void EmptySmapsMeansNoMappings()
    {
        Assert.Empty(SmapsReader.ParseAll(""));
    }

    [Fact]
    public void LongLinesAcrossBufferBoundariesAreReadWhole()
    {
        string path = "/" + new string('x', 100_000);
        string text = $"1000-2000 r--p 00000000 fe:00 1 {path}\nRss: 4 kB\n2000-3000 r--p 00000000 fe:00 1 {path}\n";
        var maps = SmapsReader.ParseAll(text);
        Assert.Equal(2, maps.Count);
        Assert.Equal(path, maps[1].Path);
        Assert.Same(maps[0].Path, maps[1].Path);
    }
}
