using System;
using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>
/// The event stream of a tracer: memleak's "events" ring mapped, its <see cref="EventStream"/> that puts the
/// per-CPU batches in timestamp order, and each event as an <see cref="AllocationRecord"/>. Without the
/// outstanding map, the sizes of the blocks freed come from <see cref="StreamedBlockSizes"/>.
/// </summary>
internal sealed class StreamedCalls : IDisposable
{
    private readonly RingBufferReader _ring;
    private readonly EventStream _stream;
    private readonly StreamedBlockSizes? _blockSizes;
    private readonly bool _kernel;
    private readonly bool _filtered;

    public StreamedCalls(BpfObject bpf, AllocationTracerOptions options)
    {
        _kernel = options.Kernel;
        _ring = bpf.MapRingBuffer("events", (uint)options.RingBufferBytes);
        _stream = new EventStream(bpf, _ring, BpfObject.PossibleCpus());
        _stream.Probe();
        if (!options.TrackOutstanding) _blockSizes = new StreamedBlockSizes(options.MaxOutstanding);
        _filtered = options.MinSize != 0 || options.MaxSize != ulong.MaxValue || options.SampleRate > 1;
    }

    /// <summary>Ring records skipped because their size is not the C# mirror's (see <see cref="TracerStatistics.MismatchedRecords"/>).</summary>
    public long MismatchedRecords => _ring.MismatchedRecords;

    /// <summary>
    /// The next call in timestamp order; false after <paramref name="timeoutMs"/> without one. With a size filter
    /// or sampling, the BPF side still sends every free (it cannot know which blocks were left out): without the
    /// outstanding map, a free is delivered only when the stream carried its allocation.
    /// </summary>
    public bool TryTake(out AllocationRecord record, int timeoutMs)
    {
        while (_stream.TryTake(out var e, timeoutMs))
        {
            record = new AllocationRecord(e.TimestampNs, e.Pid, e.Tid, (AllocatorFunction)e.Function,
                AllocationKey.Address(e.Address, _kernel), e.Size, e.StackKey, e.Caller, e.PreviousAddress);
            if (_blockSizes is null || _blockSizes.TryApply(record, out record) || !_filtered) return true;
        }
        record = default;
        return false;
    }

    /// <summary>Ends a take in progress on another thread (it returns at its next check).</summary>
    public void Stop() => _stream.Stop();

    /// <summary>Unmaps the ring once a read in progress on another thread ends.</summary>
    public void Dispose() => _ring.Dispose();
}
