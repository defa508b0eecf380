using System;
using System.Linq;
using LeakTools.Reachability;
using Xunit;

namespace LeakTools.Tests.Reachability;

public class BlockIndexTests
{
    [Fact]
    public void FindsTheBlockThatHoldsAnAddress()
    {
        var index = BlockIndex.Build(new[]
        {
            (0x10000UL, 32UL, 1UL),
            (0x10030UL, 16UL, 2UL),
            (0x7f0000000000UL, 64UL << 30, 3UL),     // a 64 GiB mapping: a cluster of its own, no page index
            (0x10ff0UL, 0x2000UL, 4UL),              // spans pages
        }, out int[] kept);
        Assert.Equal(new[] { 0, 1, 3, 2 }, kept);
        Assert.Equal(0, index.Find(0x10000));
        Assert.Equal(0, index.Find(0x1001f));
        Assert.Equal(-1, index.Find(0x10020));
        Assert.Equal(1, index.Find(0x10030));
        Assert.Equal(-1, index.Find(0x10040));
        Assert.Equal(2, index.Find(0x11000));
        Assert.Equal(2, index.Find(0x12fef));
        Assert.Equal(-1, index.Find(0x12ff0));
        Assert.Equal(3, index.Find(0x7f0000000000UL + (40UL << 30)));
        Assert.Equal(-1, index.Find(0x7f0000000000UL + (64UL << 30)));
        Assert.Equal(-1, index.Find(0));
        Assert.Equal(-1, index.Find(ulong.MaxValue));
    }

    [Fact]
    public void KeepsTheNewerOfTwoOverlappingRecords()
    {
        var index = BlockIndex.Build(new[] { (0x1000UL, 64UL, 5UL), (0x1010UL, 16UL, 9UL) }, out int[] kept);
        Assert.Equal(new[] { 1 }, kept);
        Assert.Equal(-1, index.Find(0x1000));
        Assert.Equal(0, index.Find(0x1010));
    }

    [Fact]
    public void AgreesWithALinearSearchOnAMillionRandomBlocks()
    {
        var random = new Random(13);
        var blocks = new (ulong, ulong, ulong)[1_000_000];
        ulong at = 0x555500000000;
        for (int i = 0; i < blocks.Length; i++)
        {
            ulong size = (ulong)random.Next(1, 300);
            blocks[i] = (at, size, (ulong)i);
            at += size + (ulong)(random.Next(0, 50) == 0 ? random.Next(0, 200_000) : random.Next(0, 64));
            at = (at + 15) & ~15UL;
        }
        var index = BlockIndex.Build(blocks, out _);
        var starts = blocks.Select(b => b.Item1).ToArray();
        for (int probe = 0; probe < 200_000; probe++)
        {
            ulong address = 0x555500000000 + (ulong)(random.NextDouble() * (at - 0x555500000000 + 4096));
            int i = Array.BinarySearch(starts, address);
            if (i < 0) i = ~i - 1;
            int expected = i >= 0 && address < blocks[i].Item1 + blocks[i].Item2 ? i : -1;
            Assert.Equal(expected, index.Find(address));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SortsBlocksThatComeInHashOrder(bool farApart)
    {
        var random = new Random(7);
        var blocks = Enumerable.Range(0, 50_000).Select(i => (0x5555_0000_0000UL + (ulong)i * 64, 48UL, (ulong)i)).ToList();
        // Offsets too wide to share a word with the positions: the index sorts keys and items instead.
        if (farApart) blocks.Add((0xFFFF_FFFF_FF00_0000UL, 64UL, 50_000UL));
        var shuffled = blocks.OrderBy(_ => random.Next()).ToList();
        var index = BlockIndex.Build(shuffled, out int[] kept);
        Assert.Equal(blocks.Count, index.Count);
        for (int k = 0; k < index.Count; k++)
        {
            Assert.Equal(blocks[k].Item1, index.Start(k));
            Assert.Equal(blocks[k].Item1 + 48, index.End(k) - (farApart && k == index.Count - 1 ? 16UL : 0));
            Assert.Equal(blocks[k].Item1, shuffled[kept[k]].Item1);
        }
    }

    [Fact]
    public void GlibcNextChunkLiesInsideTheBlockWhenTheSizeFillsTheChunk()
    {
        Assert.Equal(0x1000UL + 2016, PointerScanner.GlibcNextChunk(0x1000, 2024));
        Assert.Equal(0x1000UL + 16, PointerScanner.GlibcNextChunk(0x1000, 24));
        Assert.Equal(0x1000UL + 16, PointerScanner.GlibcNextChunk(0x1000, 1));
    }
}
