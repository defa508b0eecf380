using System;
using System.Collections.Generic;

namespace LeakTools.Reachability;

/// <summary>
/// Who points at which block, as the scan of a snapshot found it: for each block, whether a root (memory that
/// is no traced block, or a register) points at its start or only inside it, and the blocks it points at
/// (edges grouped by source). One referrer per block is kept, to show with a possibly lost block.
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

    internal BlockGraph(ulong[] sizes, byte[] roots, int[] edgeStart, int[] edges, ulong[] referrers, ulong[] referrerOffsets)
    {
        Sizes = sizes;
        Roots = roots;
        _edgeStart = edgeStart;
        _edges = edges;
        Referrers = referrers;
        ReferrerOffsets = referrerOffsets;
    }

    public int Count => Sizes.Length;

    public ulong[] Sizes { get; }

    /// <summary>Per block: <see cref="NoRoot"/>, <see cref="RootInterior"/> or <see cref="RootStart"/>.</summary>
    public byte[] Roots { get; }

    /// <summary>
    /// Per block: the address of the first word found pointing into its middle, or when none does, of the first
    /// found pointing at its start; <see cref="InRegister"/> for a register; 0 when nothing points at it.
    /// </summary>
    public ulong[] Referrers { get; }

    /// <summary>Per block: how far inside it that pointer points.</summary>
    public ulong[] ReferrerOffsets { get; }

    public int EdgeCount => _edges.Length;

    /// <summary>The blocks <paramref name="block"/> points at: (target, whether the pointer is interior).</summary>
    public ReadOnlySpan<int> EdgesOf(int block) => _edges.AsSpan(_edgeStart[block], _edgeStart[block + 1] - _edgeStart[block]);

    public static int Target(int edge) => edge >> 1;

    public static bool IsInterior(int edge) => (edge & 1) != 0;

    /// <summary>Collects roots and edges; edges must come grouped by source block in ascending order.</summary>
    public sealed class Builder
    {
        private readonly ulong[] _sizes;
        private readonly byte[] _roots;
        private readonly ulong[] _referrers;
        private readonly ulong[] _offsets;
        private readonly bool[] _interiorReferrer;
        private readonly int[] _edgeStart;
        private readonly List<int> _edges = new();
        private int _source = -1;

        public Builder(ulong[] sizes)
        {
            _sizes = sizes;
            _roots = new byte[sizes.Length];
            _referrers = new ulong[sizes.Length];
            _offsets = new ulong[sizes.Length];
            _interiorReferrer = new bool[sizes.Length];
            _edgeStart = new int[sizes.Length + 1];
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
            if (_interiorReferrer[block] || (_referrers[block] != 0 && offset == 0)) return;
            _referrers[block] = location;
            _offsets[block] = offset;
            _interiorReferrer[block] = offset != 0;
        }

        public BlockGraph Build()
        {
            while (_source < _sizes.Length - 1) _edgeStart[++_source] = _edges.Count;
            _edgeStart[_sizes.Length] = _edges.Count;
            return new BlockGraph(_sizes, _roots, _edgeStart, _edges.ToArray(), _referrers, _offsets);
        }
    }
}
