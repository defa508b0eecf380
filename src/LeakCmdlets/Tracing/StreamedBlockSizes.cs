using System.Collections.Generic;

namespace LeakTools.Tracing;

/// <summary>
/// The blocks a stream has allocated and not freed yet, so that a streamed free can say how many bytes it gave
/// back when the BPF side keeps no outstanding map (<see cref="AllocationTracerOptions.TrackOutstanding"/> off):
/// a dictionary operation on the consumer's side instead of two hash-map operations in every traced call.
/// Blocks whose allocation the stream did not carry (made before the watch, or dropped) free with size 0.
/// The same table tells which frees belong to allocations the stream showed, when a size filter or sampling
/// leaves allocations out (<see cref="StreamedCalls"/>). Bounded: past <c>capacity</c> live blocks, new ones
/// are not remembered. Blocks are known by process and address: in a traced process tree a forked child starts with
/// its parent's addresses.
/// </summary>
internal sealed class StreamedBlockSizes
{
    private readonly Dictionary<(uint Process, ulong Address), ulong> _sizes = new();
    private readonly int _capacity;

    public StreamedBlockSizes(int capacity) => _capacity = capacity;

    public int Count => _sizes.Count;

    /// <summary>Takes one call into account; returns it with a release's size filled in.</summary>
    public AllocationRecord Apply(in AllocationRecord record)
    {
        TryApply(record, out AllocationRecord applied);
        return applied;
    }

    /// <summary>
    /// Takes one call into account: <paramref name="applied"/> is the call with a release's size filled in.
    /// False for a release of a block the stream did not carry (made before the watch, filtered out, dropped).
    /// </summary>
    public bool TryApply(in AllocationRecord record, out AllocationRecord applied)
    {
        applied = record;
        if (record.IsRelease)
        {
            if (!_sizes.Remove((record.ProcessId, record.Address), out ulong size)) return false;
            applied = record with { Size = size };
            return true;
        }
        if (record.PreviousAddress != 0) _sizes.Remove((record.ProcessId, record.PreviousAddress));
        var key = (record.ProcessId, record.Address);
        if (_sizes.Count < _capacity || _sizes.ContainsKey(key)) _sizes[key] = record.Size;
        return true;
    }
}
