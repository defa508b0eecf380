using System;

namespace LeakTools.Reachability;

/// <summary>
/// The verdicts of one pass, looked up by each block's position in the list that was classified. Built from the
/// graph and classification arrays as they are, not copied into one verdict per block: for a million blocks that
/// copy was 32 MB of fresh memory, and first touches are what a large pass pays most for on some VMs.
/// </summary>
public sealed class ClassifiedBlocks
{
    private readonly int[]? _nodeOf;              // per position: the block in the graph, or -1 (an older record it overlapped)
    private readonly BlockGraph? _graph;
    private readonly BlockClassification? _classes;

    private ClassifiedBlocks(int count, int[]? nodeOf, BlockGraph? graph, BlockClassification? classes)
    {
        Count = count;
        _nodeOf = nodeOf;
        _graph = graph;
        _classes = classes;
    }

    public int Count { get; }

    /// <summary>Every one of <paramref name="count"/> blocks Inconclusive.</summary>
    public static ClassifiedBlocks Inconclusive(int count) => new(count, null, null, null);

    /// <param name="kept">Per graph block, its position in the classified list (<see cref="BlockIndex.Build"/>'s).</param>
    public static ClassifiedBlocks From(int count, int[] kept, BlockGraph graph, BlockClassification classes)
    {
        var nodeOf = new int[count];
        Array.Fill(nodeOf, -1);
        for (int node = 0; node < kept.Length; node++) nodeOf[kept[node]] = node;
        return new ClassifiedBlocks(count, nodeOf, graph, classes);
    }

    /// <summary>The verdict on the block at <paramref name="position"/>; Inconclusive when the pass was, or the record was overlapped by a newer one.</summary>
    public BlockVerdict this[int position]
    {
        get
        {
            if ((uint)position >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(position));
            int node = _nodeOf is null ? -1 : _nodeOf[position];
            if (node < 0) return BlockVerdict.Inconclusive;
            return new BlockVerdict(_classes!.Verdicts[node], _classes.IndirectBytes[node], _graph!.Referrers[node], _graph.ReferrerOffsets[node]);
        }
    }
}
