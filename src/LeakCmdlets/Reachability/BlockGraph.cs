using System;
using System.Collections.Generic;

namespace LeakTools.Reachability;

/// <summary>
/// Who points at which block, as the scan of a snapshot found it: for each block, whether a root (memory that
/// is no traced block, or a register) points at its start or only inside it, and the blocks it points at
/// (edges grouped by source). One referrer per block is kept when asked for, to show with a possibly lost block.
/// </summary>
public sealed class BlockGraph
{
    /// <summary>No root points at the block.</summary>
    public const byte NoRoot = 0;
    /// <summary>A root points inside the block, none at its start.</summary>
    public const byte RootInterior = 1;
    /// <summary>A root points at the block's start.</summary>
    public const byte RootStart = 2;

    /// <summary>Where a referrer held in a register is said to be.</summary>
    public const ulong InRegister = 1;

    private readonly int[] _edgeStart;   // edges of block i: _edges[_edgeStart[i] .. _edgeStart[i + 1])
    private readonly int[] _edges;       // target << 1 | interior

    private readonly Func<int, ulong> _size;

    internal BlockGraph(int count, Func<int, ulong> size, byte[] roots, int[] edgeStart, int[] edges, ulong[]? referrers, ulong[]? referrerOffsets)
    {
        Count = count;
        _size = size;
        Roots = roots;
        _edgeStart = edgeStart;
        _edges = edges;
        Referrers = referrers;
        ReferrerOffsets = referrerOffsets;
    }

    public int Count { get; }

    /// <summary>The size of <paramref name="block"/> (asked of lost blocks only, to total what they make indirectly lost).</summary>
    public ulong Size(int block) => _size(block);

    /// <summary>Per block: <see cref="NoRoot"/>, <see cref="RootInterior"/> or <see cref="RootStart"/>.</summary>
    public byte[] Roots { get; }

    /// <summary>
    /// Per block: the address of the first word found pointing into its middle, or when none does, of the first
    /// found pointing at its start; <see cref="InRegister"/> for a register; 0 when nothing points at it. Null when
    /// the builder was not asked to keep referrers.
    /// </summary>
    public ulong[]? Referrers { get; }

    /// <summary>Per block: how far inside it that pointer points (null with <see cref="Referrers"/>).</summary>
    public ulong[]? ReferrerOffsets { get; }

    public int EdgeCount => _edges.Length;

    /// <summary>The blocks <paramref name="block"/> points at: (target, whether the pointer is interior).</summary>
    public ReadOnlySpan<int> EdgesOf(int block) => _edges.AsSpan(_edgeStart[block], _edgeStart[block + 1] - _edgeStart[block]);

    public static int Target(int edge) => edge >> 1;

    public static bool IsInterior(int edge) => (edge & 1) != 0;

    /// <summary>
    /// Collects roots and edges; edges must come grouped by source block in ascending order. A scan in parts has a
    /// builder per part (<see cref="ForParts"/>): each takes the edges of its own run of blocks and roots into any
    /// block, and <see cref="Merge"/> joins them.
    /// </summary>
    public sealed class Builder
    {
        private readonly int _count;
        private readonly Func<int, ulong> _size;
        private readonly byte[] _roots;
        private readonly ulong[]? _referrers;
        private readonly ulong[]? _offsets;
        private readonly bool[]? _interiorReferrer;
        private readonly int[] _edgeStart;   // shared by the parts of a scan; this builder fills [_firstBlock, _endBlock), counted in its own edges
        private readonly int _firstBlock;
        private readonly int _endBlock;
        private readonly List<int> _edges;
        private int _source;

        /// <param name="keepReferrers">Whether to note a referrer per block: 17 bytes a block and a write per
        /// pointer found, so only when they are shown (-IncludeAddresses).</param>
        public Builder(ulong[] sizes, bool keepReferrers = true)
            : this(sizes.Length, block => sizes[block], keepReferrers)
        {
        }

        /// <param name="count">How many blocks.</param>
        /// <param name="size">The size of a block (the index's: no array of sizes is copied).</param>
        public Builder(int count, Func<int, ulong> size, bool keepReferrers)
            : this(count, size, keepReferrers, new int[count + 1], 0, count)
        {
        }

        private Builder(int count, Func<int, ulong> size, bool keepReferrers, int[] edgeStart, int firstBlock, int endBlock)
        {
            _count = count;
            _size = size;
            _roots = new byte[count];
            if (keepReferrers)
            {
                _referrers = new ulong[count];
                _offsets = new ulong[count];
                _interiorReferrer = new bool[count];
            }
            _edgeStart = edgeStart;
            _firstBlock = firstBlock;
            _endBlock = endBlock;
            _source = firstBlock - 1;
            // About one pointer per block is common (lists, trees): room for that up front, not grown by copies.
            _edges = new List<int>(endBlock - firstBlock);
        }

        /// <summary>
        /// Builders for a scan in parts, without referrers (which one a block keeps would depend on which part found
        /// it first): part k takes the edges of the blocks from <paramref name="boundaries"/>[k] up to
        /// <paramref name="boundaries"/>[k + 1] (the first 0, the last the block count).
        /// </summary>
        public static Builder[] ForParts(int count, Func<int, ulong> size, IReadOnlyList<int> boundaries)
        {
            if (boundaries.Count < 2 || boundaries[0] != 0 || boundaries[^1] != count)
                throw new ArgumentException("The parts must cover the blocks from the first to the last.", nameof(boundaries));
            var edgeStart = new int[count + 1];
            var parts = new Builder[boundaries.Count - 1];
            for (int k = 0; k < parts.Length; k++)
            {
                if (boundaries[k + 1] < boundaries[k]) throw new ArgumentException("The parts must come in block order.", nameof(boundaries));
                parts[k] = new Builder(count, size, keepReferrers: false, edgeStart, boundaries[k], boundaries[k + 1]);
            }
            return parts;
        }

        /// <summary>A root word at <paramref name="location"/> points into <paramref name="block"/>, <paramref name="offset"/> bytes in.</summary>
        public void AddRoot(int block, ulong offset, ulong location)
        {
            if (offset == 0) _roots[block] = RootStart;
            else if (_roots[block] == NoRoot) _roots[block] = RootInterior;
            NoteReferrer(block, offset, location);
        }

        /// <summary>A word of <paramref name="source"/> at <paramref name="location"/> points into <paramref name="target"/>.</summary>
        public void AddEdge(int source, int target, ulong offset, ulong location)
        {
            if (source == target) return;
            if (source < _source) throw new InvalidOperationException("Edges must come grouped by source block, in ascending order.");
            if (source >= _endBlock) throw new InvalidOperationException($"Block {source} is past this part's blocks (up to {_endBlock}).");
            while (_source < source) _edgeStart[++_source] = _edges.Count;
            int edge = target << 1 | (offset != 0 ? 1 : 0);
            // A run of words pointing at the same block (an array of pointers into one buffer) is one edge.
            if (_edges.Count > _edgeStart[source] && _edges[^1] == edge) return;
            _edges.Add(edge);
            NoteReferrer(target, offset, location);
        }

        // The first pointer into the block's middle if there is one (what makes a block possibly lost), else the first one.
        private void NoteReferrer(int block, ulong offset, ulong location)
        {
            if (_referrers is null || _offsets is null || _interiorReferrer is null) return;
            if (_interiorReferrer[block] || (_referrers[block] != 0 && offset == 0)) return;
            _referrers[block] = location;
            _offsets[block] = offset;
            _interiorReferrer[block] = offset != 0;
        }

        // Ends this builder's run of blocks: the blocks after the last source have no edges.
        private void Close()
        {
            while (_source < _endBlock - 1) _edgeStart[++_source] = _edges.Count;
        }

        public BlockGraph Build()
        {
            if (_firstBlock != 0 || _endBlock != _count) throw new InvalidOperationException("A part of a scan is built with Merge.");
            Close();
            _edgeStart[_count] = _edges.Count;
            return new BlockGraph(_count, _size, _roots, _edgeStart, _edges.ToArray(), _referrers, _offsets);
        }

        /// <summary>The graph of a scan in parts (<see cref="ForParts"/>): their edges one after the other, a block's root the strongest any part found.</summary>
        public static BlockGraph Merge(Builder[] parts)
        {
            if (parts.Length == 1) return parts[0].Build();
            int total = 0;
            foreach (var part in parts) total += part._edges.Count;
            var edges = new int[total];
            var edgeStart = parts[0]._edgeStart;
            var roots = parts[0]._roots;
            int at = 0;
            foreach (var part in parts)
            {
                part.Close();
                for (int block = part._firstBlock; block < part._endBlock; block++) edgeStart[block] += at;
                part._edges.CopyTo(edges, at);
                at += part._edges.Count;
                if (part != parts[0])
                {
                    // NoRoot < RootInterior < RootStart: the strongest wins.
                    for (int block = 0; block < roots.Length; block++) roots[block] = Math.Max(roots[block], part._roots[block]);
                }
            }
            edgeStart[^1] = total;
            return new BlockGraph(parts[0]._count, parts[0]._size, roots, edgeStart, edges, null, null);
        }
    }
}
