using System;
using LeakTools.Model;

namespace LeakTools.Reachability;

/// <summary>
/// The verdicts of one pass, looked up by each block's position in the list that was classified. Built from the
/// graph and classification arrays as they are, not copied into one verdict per block: for a million blocks that
/// copy was 32 MB of fresh memory, and first touches are what a large pass pays most for on some VMs.
/// </summary>
public sealed class ClassifiedBlocks
{
    private readonly int[]? _kept;                // per graph block, its position
    private int[]? _nodeOf;                       // per position: the block in the graph, or -1 (an older record it overlapped); built when first asked
    private readonly byte[]? _verdictAt;          // per position: its LeakVerdict, so that a report's pass in that order stays in one small array
    private readonly BlockGraph? _graph;
    private readonly BlockClassification? _classes;

    private ClassifiedBlocks(int count, int[]? kept, byte[]? verdictAt, BlockGraph? graph, BlockClassification? classes)
    {
        Count = count;
        _kept = kept;
        _verdictAt = verdictAt;
        _graph = graph;
        _classes = classes;
    }

    public int Count { get; }

    /// <summary>Every one of <paramref name="count"/> blocks Inconclusive.</summary>
    public static ClassifiedBlocks Inconclusive(int count) => new(count, null, null, null, null);

    /// <param name="kept">Per graph block, its position in the classified list (<see cref="BlockIndex.Build"/>'s).</param>
    public static ClassifiedBlocks From(int count, int[] kept, BlockGraph graph, BlockClassification classes)
    {
        var verdictAt = new byte[count];
        Array.Fill(verdictAt, (byte)LeakVerdict.Inconclusive);
        for (int node = 0; node < kept.Length; node++) verdictAt[kept[node]] = (byte)classes.Verdicts[node];
        return new ClassifiedBlocks(count, kept, verdictAt, graph, classes);
    }

    /// <summary>The verdict alone on the block at <paramref name="position"/> (what a report totals; <see cref="this[int]"/> has the rest).</summary>
    public LeakVerdict VerdictAt(int position)
    {
        if ((uint)position >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(position));
        return _verdictAt is null ? LeakVerdict.Inconclusive : (LeakVerdict)_verdictAt[position];
    }

    /// <summary>The bytes the block at <paramref name="position"/> makes indirectly lost (non-zero only for a DefinitelyLost block).</summary>
    public ulong IndirectBytesAt(int position)
    {
        int node = NodeOf(position);
        return node < 0 ? 0 : _classes!.IndirectBytes(node);
    }

    /// <summary>The verdict on the block at <paramref name="position"/>; Inconclusive when the pass was, or the record was overlapped by a newer one.</summary>
    public BlockVerdict this[int position]
    {
        get
        {
            int node = NodeOf(position);
            if (node < 0) return BlockVerdict.Inconclusive;
            return new BlockVerdict(_classes!.Verdicts[node], _classes.IndirectBytes(node), _graph!.Referrers?[node] ?? 0, _graph.ReferrerOffsets?[node] ?? 0);
        }
    }

    // A report that only totals verdicts never needs the map from position to block: it is built on the first question that does.
    private int NodeOf(int position)
    {
        if ((uint)position >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(position));
        if (_kept is null) return -1;
        if (_nodeOf is null)
        {
            var nodeOf = new int[Count];
            Array.Fill(nodeOf, -1);
            for (int node = 0; node < _kept.Length; node++) nodeOf[_kept[node]] = node;
            _nodeOf = nodeOf;
        }
        return _nodeOf[position];
    }
}
