using System;
using System.Linq;
using LeakTools.Reachability;
using Xunit;

namespace LeakTools.Tests.Reachability;

/// <summary>
/// The conservative scan over the copy of a real process (Native/pointer_chain.c: a chain of blocks, each pointing
/// at the start of the one before and 16 bytes into it, the last held by a global).
/// </summary>
public class PointerScannerTests
{
    private const int Blocks = 5000;
    private const ulong BlockSize = 256;

    [Fact]
    public void FindsEveryLinkOfTheChainAndTheRootThatHoldsIt()
    {
        using var chain = PointerChain.Start(Blocks);
        var index = chain.Index(BlockSize, out var nodeOf);
        using var snapshot = chain.Snapshot();
        var graph = PointerScanner.Scan(index, snapshot, Array.Empty<ThreadRegisters>(), keepReferrers: false, parts: 1);

        for (int i = 1; i < Blocks; i++)
        {
            var edges = graph.EdgesOf(nodeOf[i]).ToArray();
            Assert.Contains(nodeOf[i - 1] << 1, edges);          // at its start
            Assert.Contains(nodeOf[i - 1] << 1 | 1, edges);      // 16 bytes in
        }
        Assert.Equal(BlockGraph.RootStart, graph.Roots[nodeOf[Blocks - 1]]);
        var classes = LeakClassifier.Classify(graph);
        Assert.All(Enumerable.Range(0, Blocks), i => Assert.Equal(Model.LeakVerdict.Reachable, classes.Verdicts[nodeOf[i]]));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void AScanInPartsFindsWhatAScanInOnePartDoes(int parts)
    {
        using var chain = PointerChain.Start(Blocks);
        var index = chain.Index(BlockSize, out _);
        using var snapshot = chain.Snapshot();
        var one = PointerScanner.Scan(index, snapshot, Array.Empty<ThreadRegisters>(), keepReferrers: false, parts: 1);
        var split = PointerScanner.Scan(index, snapshot, Array.Empty<ThreadRegisters>(), keepReferrers: false, parts: parts);

        Assert.Equal(one.Roots, split.Roots);
        Assert.Equal(one.EdgeCount, split.EdgeCount);
        for (int block = 0; block < index.Count; block++) Assert.Equal(one.EdgesOf(block).ToArray(), split.EdgesOf(block).ToArray());
    }

    [Fact]
    public void KeepsReferrersOnlyWhenAskedAndOnlyInOnePart()
    {
        using var chain = PointerChain.Start(100);
        var index = chain.Index(BlockSize, out var nodeOf);
        using var snapshot = chain.Snapshot();
        var without = PointerScanner.Scan(index, snapshot, Array.Empty<ThreadRegisters>(), keepReferrers: false);
        Assert.Null(without.Referrers);
        var with = PointerScanner.Scan(index, snapshot, Array.Empty<ThreadRegisters>(), keepReferrers: true);
        // Block 0 is reached by block 1's two words; the interior one is kept (it is what makes a block possibly lost).
        Assert.Equal(chain.Addresses[1] + 8, with.Referrers![nodeOf[0]]);
        Assert.Equal(16UL, with.ReferrerOffsets![nodeOf[0]]);
        Assert.Throws<ArgumentException>(() => PointerScanner.Scan(index, snapshot, Array.Empty<ThreadRegisters>(), keepReferrers: true, parts: 2));
    }
}
