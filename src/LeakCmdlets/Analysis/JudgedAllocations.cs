using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace LeakTools.Analysis;

/// <summary>
/// The allocations a -Verdict pass judges (the target's own, allocated before its pause), in the order the report
/// read them: position i is block i of the classification. Each keeps the index of the site that reports it
/// (<see cref="AllocationSite.Index"/>), not a copy in the site: a million blocks are held once, and the report
/// totals them per site and verdict in one pass in this order.
/// </summary>
public sealed class JudgedAllocations
{
    /// <summary>The site of a block the report leaves out (made before the trace, or younger than -OlderThan); it is still judged, and its pointers count.</summary>
    public const int NotReported = -1;

    private readonly List<int> _sites;

    /// <param name="capacity">How many blocks to make room for (a million grown by doubling would touch twice the memory).</param>
    public JudgedAllocations(int capacity)
    {
        Blocks = new List<(ulong, ulong, ulong)>(capacity);
        _sites = new List<int>(capacity);
    }

    /// <summary>
    /// A list with room for <paramref name="capacity"/> blocks whose memory has been written once already. A page's
    /// first write is what a million blocks cost most on some VMs (about 7,000 pages, 20 µs each here); a list made
    /// this way while the trace runs leaves the report after the window only the copying in.
    /// </summary>
    public static JudgedAllocations Prepared(int capacity)
    {
        var judged = new JudgedAllocations(capacity);
        Touch(judged.Blocks);
        Touch(judged._sites);
        return judged;
    }

    private static void Touch<T>(List<T> list) where T : unmanaged
    {
        CollectionsMarshal.SetCount(list, list.Capacity);
        CollectionsMarshal.AsSpan(list).Clear();
        CollectionsMarshal.SetCount(list, 0);
    }

    /// <summary>How many blocks fit before the lists grow.</summary>
    public int Capacity => Blocks.Capacity;

    /// <summary>Address, size and allocation time of each block, by position.</summary>
    public List<(ulong Address, ulong Size, ulong TimestampNs)> Blocks { get; }

    public int Count => Blocks.Count;

    /// <summary>The index of the site that reports the block at <paramref name="position"/>, or <see cref="NotReported"/>.</summary>
    public int SiteOf(int position) => _sites[position];

    public void Add(in TrackedAllocation allocation, int site)
    {
        Blocks.Add((allocation.Address, allocation.Size, allocation.TimestampNs));
        _sites.Add(site);
    }
}
