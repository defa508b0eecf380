using System;
using System.Collections.Generic;
using System.Linq;

namespace LeakTools.Analysis;

/// <summary>
/// Groups outstanding allocations by their stack, the way memleak's report does, as they are read: a report
/// over millions of allocations never holds them twice.
/// Grouping is by the raw address sequence rather than the tracer's stack id: ids can collide and the
/// direct caller is captured separately from the stack map, so only the addresses say "same site".
/// A later reachability verdict splits a site by verdict: classify the allocations first, then group
/// by (stack, verdict) with the same comparer.
/// </summary>
public sealed class LeakAggregator
{
    private readonly Dictionary<ulong[], AllocationSite> _sites = new(StackComparer.Instance);
    // The reader hands the same array for every allocation of a stack: found by reference first, a million
    // allocations do not hash their stacks' frames a million times.
    private readonly Dictionary<ulong[], AllocationSite> _byArray = new(ReferenceEqualityComparer.Instance);
    private readonly List<AllocationSite> _inOrder = new();
    private readonly ulong _bornAtOrAfterNs;
    private readonly ulong _bornAtOrBeforeNs;

    /// <summary>
    /// Counts the allocations made in [<paramref name="bornAtOrAfterNs"/>, <paramref name="bornAtOrBeforeNs"/>]
    /// (the trace start and the -OlderThan cut); the others are left out.
    /// </summary>
    public LeakAggregator(ulong bornAtOrAfterNs, ulong bornAtOrBeforeNs)
    {
        _bornAtOrAfterNs = bornAtOrAfterNs;
        _bornAtOrBeforeNs = bornAtOrBeforeNs;
    }

    /// <summary>Adds one allocation made by <paramref name="stack"/> (equal stacks may be different arrays).</summary>
    public void Add(ulong[] stack, in TrackedAllocation allocation)
    {
        if (!Counts(allocation.TimestampNs)) return;
        SiteOf(stack).Add(allocation);
    }

    /// <summary>
    /// Adds one allocation a -Verdict pass judges to <paramref name="judged"/>, with the site that will report it
    /// (or none, when this report leaves it out); the site itself does not keep it.
    /// </summary>
    public void AddJudged(ulong[] stack, in TrackedAllocation allocation, JudgedAllocations judged) =>
        judged.Add(allocation, Counts(allocation.TimestampNs) ? SiteOf(stack).Index : JudgedAllocations.NotReported);

    /// <summary>The site of <paramref name="index"/> (<see cref="AllocationSite.Index"/>).</summary>
    public AllocationSite SiteAt(int index) => _inOrder[index];

    /// <summary>How many sites, in the order they were met.</summary>
    public int SiteCount => _inOrder.Count;

    private bool Counts(ulong timestampNs) => timestampNs >= _bornAtOrAfterNs && timestampNs <= _bornAtOrBeforeNs;

    private AllocationSite SiteOf(ulong[] stack)
    {
        if (_byArray.TryGetValue(stack, out var site)) return site;
        if (!_sites.TryGetValue(stack, out site))
        {
            site = new AllocationSite(stack, _inOrder.Count);
            _sites.Add(stack, site);
            _inOrder.Add(site);
        }
        _byArray.Add(stack, site);
        return site;
    }

    /// <summary>The sites, largest first.</summary>
    public List<AllocationSite> Sites() => _sites.Values
        .OrderByDescending(s => s.Bytes)
        .ThenByDescending(s => s.Count)
        .ToList();

    /// <summary>Value equality for stacks of raw addresses.</summary>
    public sealed class StackComparer : IEqualityComparer<ulong[]>
    {
        public static readonly StackComparer Instance = new();

        public bool Equals(ulong[]? x, ulong[]? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(ulong[] stack)
        {
            var hash = new HashCode();
            foreach (ulong address in stack) hash.Add(address);
            return hash.ToHashCode();
        }
    }
}
