using System;
using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>Reads memleak's "outstanding" map, the allocations not freed yet, in batches.</summary>
internal sealed class OutstandingMapReader
{
    private const int BatchSize = 1 << 16;   // fewer syscalls; the keys, values and batch buffers are 5.2 MB

    private readonly BpfObject _bpf;
    private readonly bool _kernel;
    private BpfHashMap<ulong, MemleakAbi.AllocInfo>? _outstanding;

    public OutstandingMapReader(BpfObject bpf, bool kernel)
    {
        _bpf = bpf;
        _kernel = kernel;
    }

    /// <summary>
    /// All allocations not freed yet, handed over one batch at a time (at most 65,536), so a caller that
    /// aggregates them never holds a copy of the whole map.
    /// </summary>
    public void ReadAll(OutstandingBatchHandler onBatch)
    {
        _outstanding ??= _bpf.HashMap<ulong, MemleakAbi.AllocInfo>("outstanding");
        var batch = GC.AllocateUninitializedArray<OutstandingAllocation>(BatchSize);
        _outstanding.ReadAll(BatchSize, (keys, values) =>
        {
            for (int i = 0; i < keys.Length; i++)
            {
                ref readonly MemleakAbi.AllocInfo info = ref values[i];
                batch[i] = new OutstandingAllocation(AllocationKey.Address(keys[i], _kernel), info.Size, info.TimestampNs, info.StackKey, info.Caller, info.Tid);
            }
            onBatch(batch.AsSpan(0, keys.Length));
        });
    }
}
