using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace LeakTools.Reachability;

/// <summary>
/// The traced blocks, sorted by address, and the lookup of a candidate pointer: which block, if any, holds the
/// address a word points at. Built for millions of blocks and billions of lookups: blocks lie in clusters (runs
/// with gaps under 64 KiB between them, typically one per heap); each cluster has a dense index of its pages
/// (the first block that ends past each page's start), so a lookup is a reject on the overall bounds, a binary
/// search over the few clusters and one over the handful of blocks that share a page.
/// Blocks must not overlap: <see cref="Build"/> keeps the newer of two overlapping records (the older one's free
/// was missed).
/// </summary>
public sealed class BlockIndex
{
    private const int PageShift = 12;
    private const ulong ClusterGap = 64 * 1024;
    private const ulong LargeBlock = 1024 * 1024;

    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly ulong[] _clusterStarts;
    private readonly ulong[] _clusterEnds;
    private readonly int[] _clusterPages;   // where each cluster's pages begin in _pageFirst; ~block for a cluster of one
    private readonly int[] _pageFirst;
    private readonly ulong _low;
    private readonly ulong _span;

    private BlockIndex(ulong[] starts, ulong[] ends)
    {
        _starts = starts;
        _ends = ends;
        var clusterStarts = new List<ulong>();
        var clusterEnds = new List<ulong>();
        var clusterPages = new List<int>();
        var pageFirst = new List<int>();
        int i = 0;
        while (i < starts.Length)
        {
            int first = i;
            ulong end = ends[i];
            // A large block (a mapping of its own) stands alone and needs no page index.
            if (end - starts[i] < LargeBlock)
            {
                while (i + 1 < starts.Length && starts[i + 1] - end < ClusterGap && ends[i + 1] - starts[i + 1] < LargeBlock)
                {
                    i++;
                    end = ends[i];
                }
            }
            i++;
            if (i - first == 1)
            {
                clusterStarts.Add(starts[first]);
                clusterEnds.Add(end);
                clusterPages.Add(~first);
                continue;
            }
            ulong clusterStart = starts[first] & ~((1UL << PageShift) - 1);
            ulong pages = ((end - clusterStart) >> PageShift) + 1;
            clusterStarts.Add(clusterStart);
            clusterEnds.Add(end);
            clusterPages.Add(pageFirst.Count);
            int block = first;
            for (ulong page = 0; page <= pages; page++)
            {
                ulong pageStart = clusterStart + (page << PageShift);
                while (block < i && ends[block] <= pageStart) block++;
                pageFirst.Add(block);
            }
        }
        _clusterStarts = clusterStarts.ToArray();
        _clusterEnds = clusterEnds.ToArray();
        _clusterPages = clusterPages.ToArray();
        _pageFirst = pageFirst.ToArray();
        _low = starts.Length > 0 ? starts[0] : 1;
        _span = starts.Length > 0 ? ends[^1] - _low : 0;
    }

    /// <summary>How many blocks.</summary>
    public int Count => _starts.Length;

    public ulong Start(int block) => _starts[block];

    public ulong End(int block) => _ends[block];

    public ulong Size(int block) => _ends[block] - _starts[block];

    /// <summary>
    /// Indexes the blocks [address, address + size) of <paramref name="blocks"/>; where two overlap, the one
    /// with the later <c>Order</c> is kept. <paramref name="kept"/> gets, per index, the position in
    /// <paramref name="blocks"/> it came from.
    /// </summary>
    public static BlockIndex Build(IReadOnlyList<(ulong Address, ulong Size, ulong Order)> blocks, out int[] kept)
    {
        int count = blocks.Count;
        var order = new int[count];
        var starts = new ulong[count];
        bool sorted = true;
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
            starts[i] = blocks[i].Address;
            sorted &= i == 0 || starts[i - 1] <= starts[i];
        }
        // The report's blocks come in the BPF map's hash order; a list already sorted skips the sort.
        if (!sorted) AddressSort.Sort(starts, order, count);
        // Kept blocks are compacted in place (entry k is written at or below k): a million blocks cost three arrays,
        // not six lists and their copies. Each array's first touch is paid page by page, and on some VMs that is the cost.
        var ends = new ulong[count];
        int keptCount = 0;
        for (int k = 0; k < count; k++)
        {
            int i = order[k];
            var (address, size, age) = blocks[i];
            // A zero-byte block still has an address a pointer can hold: give it one byte.
            ulong end = address + Math.Max(size, 1);
            while (keptCount > 0 && ends[keptCount - 1] > address)
            {
                if (blocks[order[keptCount - 1]].Order > age) goto skip;
                keptCount--;
            }
            starts[keptCount] = address;
            ends[keptCount] = end;
            order[keptCount] = i;
            keptCount++;
        skip:;
        }
        if (keptCount < count)
        {
            Array.Resize(ref starts, keptCount);
            Array.Resize(ref ends, keptCount);
            Array.Resize(ref order, keptCount);
        }
        kept = order;
        return new BlockIndex(starts, ends);
    }

    /// <summary>
    /// Whether <paramref name="address"/> lies between the first block's start and the last one's end: the check a
    /// scan makes on every word before <see cref="Find"/>, kept small enough to inline (most words are no pointers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool InBounds(ulong address) => address - _low < _span;

    /// <summary>The first block that ends after <paramref name="address"/> (<see cref="Count"/> when none does).</summary>
    public int FirstEndingAfter(ulong address)
    {
        int lo = 0, hi = _ends.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (_ends[mid] <= address) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>The block that holds <paramref name="address"/>, or -1.</summary>
    public int Find(ulong address)
    {
        if (address - _low >= _span) return -1;
        var clusters = _clusterStarts.AsSpan();
        int lo = 0, hi = clusters.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (clusters[mid] <= address) lo = mid; else hi = mid - 1;
        }
        if (address < clusters[lo] || address >= _clusterEnds[lo]) return -1;
        if (_clusterPages[lo] < 0) return ~_clusterPages[lo];   // a cluster of one block
        int page = _clusterPages[lo] + (int)((address - clusters[lo]) >> PageShift);
        int first = _pageFirst[page], last = _pageFirst[page + 1];
        // The first block that ends past the address; it holds the address if it starts at or before it. (The search
        // of FirstEndingAfter, written out: the two sharing one method made the 1 GiB bench's scan 0.6 s → 1.0 s.)
        while (first < last)
        {
            int mid = (first + last) >> 1;
            if (_ends[mid] <= address) first = mid + 1; else last = mid;
        }
        return first < _starts.Length && _starts[first] <= address && address < _ends[first] ? first : -1;
    }
}
