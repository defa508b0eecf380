using System;
using System.Linq;
using LeakTools.Model;
using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

public class MemoryMapComparerTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0);

    private static MemoryMapping Map(ulong start, long size, long rss, string path = "", long dirty = 0, int pid = 1, double at = 0) => new()
    {
        ProcessId = pid,
        Start = start,
        End = start + (ulong)size,
        Size = size,
        Rss = rss,
        PrivateDirty = dirty,
        Path = path,
        Timestamp = T0.AddSeconds(at),
    };

    [Fact]
    public void GrowthIsSortedBiggestFirstAndAddedRemovedAreFlagged()
    {
        var before = new[] { Map(0x1000, 4096, 4096, "[heap]"), Map(0x9000, 8192, 8192, "/lib/a.so"), Map(0x20000, 4096, 4096) };
        var after = new[] { Map(0x1000, 40960, 40960, "[heap]", at: 2), Map(0x9000, 8192, 8192, "/lib/a.so", at: 2), Map(0x30000, 4096, 1024, at: 2) };

        var changes = MemoryMapComparer.Compare(before, after);

        Assert.Equal(new[] { MappingChangeKind.Grown, MappingChangeKind.Added, MappingChangeKind.Removed }, changes.Select(c => c.Change));
        MemoryMappingChange heap = changes[0];
        Assert.Equal("[heap]", heap.Path);
        Assert.Equal(36864, heap.RssDelta);
        Assert.Equal(36864, heap.SizeDelta);
        Assert.Equal(2, heap.IntervalSeconds);
        Assert.Equal(18432, heap.RssBytesPerSecond);
        Assert.Null(changes[1].RssBefore);
        Assert.Null(changes[2].RssAfter);
        Assert.Equal(-4096, changes[2].RssDelta);
    }

    [Fact]
    public void UnchangedMappingsAreLeftOutUnlessAskedFor()
    {
        var before = new[] { Map(0x1000, 4096, 4096, "/x") };
        var after = new[] { Map(0x1000, 4096, 4096, "/x") };
        Assert.Empty(MemoryMapComparer.Compare(before, after));
        Assert.Equal(MappingChangeKind.Unchanged, MemoryMapComparer.Compare(before, after, includeUnchanged: true).Single().Change);
    }

    [Fact]
    public void MappingsAreMatchedByProcessStartAndPath()
    {
        var before = new[] { Map(0x1000, 4096, 4096, "/x", pid: 1), Map(0x1000, 4096, 4096, "/x", pid: 2) };
        var after = new[] { Map(0x1000, 4096, 4096, "/y", pid: 1), Map(0x1000, 4096, 0, "/x", pid: 2) };
        var changes = MemoryMapComparer.Compare(before, after);
        Assert.Contains(changes, c => c.ProcessId == 1 && c.Path == "/y" && c.Change == MappingChangeKind.Added);
        Assert.Contains(changes, c => c.ProcessId == 1 && c.Path == "/x" && c.Change == MappingChangeKind.Removed);
        Assert.Contains(changes, c => c.ProcessId == 2 && c.Change == MappingChangeKind.Shrunk);
    }

    [Fact]
    public void DirtyingPagesWithoutRssChangeCountsAsGrowth()
    {
        var before = new[] { Map(0x1000, 4096, 4096, dirty: 0) };
        var after = new[] { Map(0x1000, 4096, 4096, dirty: 4096) };
        Assert.Equal(MappingChangeKind.Grown, MemoryMapComparer.Compare(before, after).Single().Change);
    }

    [Fact]
    public void AMappingThatGrewDownwardsIsPairedByItsEnd()
    {
        var before = new[] { Map(0x10000, 0x1000, 4096) };
        var after = new[] { Map(0xE000, 0x3000, 12288) };
        MemoryMappingChange change = MemoryMapComparer.Compare(before, after).Single();
        Assert.Equal(MappingChangeKind.Grown, change.Change);
        Assert.Equal(0x2000, change.SizeDelta);
        Assert.Equal(0xE000UL, change.Start);
    }
}
