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
        if (allocation.TimestampNs < _bornAtOrAfterNs || allocation.TimestampNs > _bornAtOrBeforeNs) return;
        if (!_sites.TryGetValue(stack, out var site))
        {
            site = new AllocationSite(stack);
            _sites.Add(stack, site);
        }
        site.Add(allocation);
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
