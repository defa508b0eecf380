using System.Linq;
using LeakTools.Model;
using LeakTools.Reachability;
using Xunit;

namespace LeakTools.Tests.Reachability;

/// <summary>valgrind's leak rules on synthetic block graphs: roots, start and interior edges, cliques.</summary>
public class LeakClassifierTests
{
    private const ulong Start = 0, Inside = 8;

    private sealed class Graph
    {
        private readonly BlockGraph.Builder _builder;

        public Graph(params ulong[] sizes) => _builder = new BlockGraph.Builder(sizes);

        public Graph Root(int block, ulong offset = Start)
        {
            _builder.AddRoot(block, offset, 0x1000);
            return this;
        }

        // Edges must come grouped by source in ascending order: the tests list them that way.
        public Graph Edge(int from, int to, ulong offset = Start)
        {
            _builder.AddEdge(from, to, offset, 0x2000 + (ulong)from * 8);
            return this;
        }

        public BlockClassification Classify() => LeakClassifier.Classify(_builder.Build());
    }

    [Fact]
    public void ValgrindLeakCasesGetValgrindsVerdicts()
    {
        // Blocks in pairs (A, B) per valgrind leak-cases shape p1..p9: 0-1 p1 ... 16-17 p9.
        var sizes = Enumerable.Repeat(16UL, 18).ToArray();
        var classes = new Graph(sizes)
            .Root(0)                                     // p1: root --> A
            .Root(2)                                     // p2: root --> A --> B
            .Root(8, Inside)                             // p5: root -?-> A
            .Root(10)                                    // p6: root --> A -?-> B
            .Root(12, Inside)                            // p7: root -?-> A --> B
            .Root(14, Inside)                            // p8: root -?-> A -?-> B
            .Edge(2, 3).Edge(6, 7).Edge(10, 11, Inside).Edge(12, 13).Edge(14, 15, Inside).Edge(16, 17, Inside)
            .Classify();
        LeakVerdict R = LeakVerdict.Reachable, P = LeakVerdict.PossiblyLost, D = LeakVerdict.DefinitelyLost, I = LeakVerdict.IndirectlyLost;
        Assert.Equal(new[]
        {
            R, D,   // p1 (block 1 is unused: alone, so lost)
            R, R,   // p2
            D, D,   // p3: A alone (and the unused B)
            D, I,   // p4: A --> B, A unreferenced
            P, D,   // p5
            R, P,   // p6
            P, P,   // p7
            P, P,   // p8
            D, I,   // p9: A -?-> B, A unreferenced
        }, classes.Verdicts);
    }

    [Fact]
    public void LostCycleIsOneDefinitelyLostBlockOwningTheRest()
    {
        var classes = new Graph(100, 200, 300).Edge(0, 1).Edge(1, 2).Edge(2, 0).Classify();
        Assert.Equal(new[] { LeakVerdict.DefinitelyLost, LeakVerdict.IndirectlyLost, LeakVerdict.IndirectlyLost }, classes.Verdicts);
        Assert.Equal(500UL, classes.IndirectBytes(0));
        Assert.Equal(new[] { 0, 0, 0 }, Enumerable.Range(0, classes.Verdicts.Length).Select(classes.Owner));
    }

    [Fact]
    public void LostTreeWhoseLeavesComeFirstIsOwnedByItsRoot()
    {
        // Leaves at lower addresses than the root: each becomes a leader first, then joins the root's clique.
        var classes = new Graph(10, 20, 30, 40).Edge(2, 1).Edge(3, 0).Edge(3, 2).Classify();
        Assert.Equal(new[] { LeakVerdict.IndirectlyLost, LeakVerdict.IndirectlyLost, LeakVerdict.IndirectlyLost, LeakVerdict.DefinitelyLost }, classes.Verdicts);
        Assert.Equal(60UL, classes.IndirectBytes(3));
        Assert.Equal(0UL, classes.IndirectBytes(2));
        Assert.Equal(new[] { 3, 3, 3, 3 }, Enumerable.Range(0, classes.Verdicts.Length).Select(classes.Owner));
    }

    [Fact]
    public void ReachableBlockRescansWhatItReachesAfterAnUpgrade()
    {
        // 0 is found possible first (interior root), and reachable later (start root): 1 must end reachable too.
        var classes = new Graph(8, 8).Root(0, Inside).Root(0).Edge(0, 1).Classify();
        Assert.Equal(new[] { LeakVerdict.Reachable, LeakVerdict.Reachable }, classes.Verdicts);
    }

    [Fact]
    public void IndirectlyLostBlocksReachedFromTwoCliquesStayWithTheFirst()
    {
        // 0 and 1 are both unreferenced and both point at 2.
        var classes = new Graph(8, 8, 8).Edge(0, 2).Edge(1, 2).Classify();
        Assert.Equal(new[] { LeakVerdict.DefinitelyLost, LeakVerdict.DefinitelyLost, LeakVerdict.IndirectlyLost }, classes.Verdicts);
        Assert.Equal(8UL, classes.IndirectBytes(0));
        Assert.Equal(0UL, classes.IndirectBytes(1));
    }

    [Fact]
    public void ReferrerPrefersAnInteriorPointer()
    {
        var builder = new BlockGraph.Builder(new ulong[] { 16, 16 });
        builder.AddEdge(0, 1, 0, 0x10);
        builder.AddRoot(1, 8, 0x20);
        var graph = builder.Build();
        Assert.Equal(0x20UL, graph.Referrers![1]);
        Assert.Equal(8UL, graph.ReferrerOffsets![1]);
    }
}
