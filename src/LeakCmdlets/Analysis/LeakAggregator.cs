using System;
using System.Collections.Generic;
using System.Linq;

namespace LeakTools.Analysis;

/// <summary>
/// Groups outstanding allocations by their stack, the way memleak's report does.
/// Grouping is by the raw address sequence rather than the tracer's stack id: ids can collide and the
/// direct caller is captured separately from the stack map, so only the addresses say "same site".
/// A later reachability verdict splits a site by verdict: classify the allocations first, then group
/// by (stack, verdict) with the same comparer.
/// </summary>
public static class LeakAggregator
{
    /// <summary>
    /// The sites of the allocations made at or before <paramref name="bornAtOrBeforeNs"/> (the -OlderThan cut),
    /// largest first.
    /// </summary>
    public static List<AllocationSite> Aggregate(IEnumerable<TrackedAllocation> allocations, ulong bornAtOrBeforeNs)
    {
        var sites = new Dictionary<ulong[], AllocationSite>(StackComparer.Instance);
        foreach (var allocation in allocations)
        {
            if (allocation.TimestampNs > bornAtOrBeforeNs) continue;
            if (!sites.TryGetValue(allocation.Stack, out var site))
            {
                site = new AllocationSite(allocation.Stack);
                sites.Add(allocation.Stack, site);
            }
            site.Add(allocation);
        }
        return sites.Values
            .OrderByDescending(s => s.Bytes)
            .ThenByDescending(s => s.Count)
            .ToList();
    }

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
