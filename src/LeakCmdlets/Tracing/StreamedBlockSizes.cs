using System.Collections.Generic;

namespace LeakTools.Tracing;

/// <summary>
/// The blocks a stream has allocated and not freed yet, so that a streamed free can say how many bytes it gave
/// back when the BPF side keeps no outstanding map (<see cref="AllocationTracerOptions.TrackOutstanding"/> off):
/// a dictionary operation on the consumer's side instead of two hash-map operations in every traced call.
/// Blocks whose allocation the stream did not carry (made before the watch, or dropped) free with size 0.
/// Bounded: past <c>capacity</c> live blocks, new ones are not remembered.
/// </summary>
internal sealed class StreamedBlockSizes
{
    private readonly Dictionary<ulong, ulong> _sizes = new();
    private readonly int _capacity;

    public StreamedBlockSizes(int capacity) => _capacity = capacity;

    public int Count => _sizes.Count;

    /// <summary>Takes one call into account; returns it with a release's size filled in.</summary>
    public AllocationRecord Apply(in AllocationRecord record)
    {
        if (record.IsRelease)
            return _sizes.Remove(record.Address, out ulong size) ? record with { Size = size } : record;
        if (record.PreviousAddress != 0) _sizes.Remove(record.PreviousAddress);
        if (_sizes.Count < _capacity || _sizes.ContainsKey(record.Address)) _sizes[record.Address] = record.Size;
        return record;
    }
}
