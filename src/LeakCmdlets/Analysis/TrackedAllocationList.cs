using System;
using System.Collections;
using System.Collections.Generic;

namespace LeakTools.Analysis;

/// <summary>
/// The allocations of one site, in small chunks rather than one growing array: a report may gather millions
/// of allocations over thousands of sites, and a doubling array would leave each site up to half empty and
/// every old copy behind as garbage. Chunks of at most 32 keep a site within 31 entries of its size.
/// </summary>
public sealed class TrackedAllocationList : IReadOnlyCollection<TrackedAllocation>
{
    private const int FirstChunkLength = 4;
    private const int LargestChunkLength = 32;
    private readonly List<TrackedAllocation[]> _chunks = new();
    private int _usedInLastChunk;

    public int Count { get; private set; }

    public void Add(in TrackedAllocation allocation)
    {
        if (_chunks.Count == 0 || _usedInLastChunk == _chunks[^1].Length)
        {
            int length = _chunks.Count == 0 ? FirstChunkLength : Math.Min(_chunks[^1].Length * 2, LargestChunkLength);
            _chunks.Add(new TrackedAllocation[length]);
            _usedInLastChunk = 0;
        }
        _chunks[^1][_usedInLastChunk++] = allocation;
        Count++;
    }

    public IEnumerator<TrackedAllocation> GetEnumerator()
    {
        for (int c = 0; c < _chunks.Count; c++)
        {
            var chunk = _chunks[c];
            int used = c == _chunks.Count - 1 ? _usedInLastChunk : chunk.Length;
            for (int i = 0; i < used; i++) yield return chunk[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
