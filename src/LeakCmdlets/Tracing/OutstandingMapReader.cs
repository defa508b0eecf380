using System;
using System.Collections.Generic;
using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>Reads memleak's "outstanding" map, the allocations not freed yet, in batches.</summary>
internal sealed class OutstandingMapReader
{
    private const int BatchSize = 1 << 16;   // fewer syscalls; the keys, values and batch buffers are 5.2 MB

    private readonly BpfObject _bpf;
    private readonly bool _kernel;
    private BpfHashMap<MemleakAbi.AllocKey, MemleakAbi.AllocInfo>? _outstanding;

    public OutstandingMapReader(BpfObject bpf, bool kernel)
    {
        _bpf = bpf;
        _kernel = kernel;
    }

    /// <summary>
    /// All allocations not freed yet, handed over one batch at a time (at most 65,536), so a caller that
    /// aggregates them never holds a copy of the whole map.
    /// </summary>
    public void ReadAll(OutstandingBatchHandler onBatch) => Read(BatchSize, onBatch, (map, size, handler) => map.ReadAll(size, handler));

    /// <summary>A sample: the first allocations of the map (up to <paramref name="count"/>), in one batch.</summary>
    public void ReadFirst(int count, OutstandingBatchHandler onBatch) => Read(count, onBatch, (map, size, handler) => map.ReadFirst(size, handler));

    private void Read(int batchSize, OutstandingBatchHandler onBatch,
        Action<BpfHashMap<MemleakAbi.AllocKey, MemleakAbi.AllocInfo>, int, BpfBatchHandler<MemleakAbi.AllocKey, MemleakAbi.AllocInfo>> read)
    {
        _outstanding ??= _bpf.HashMap<MemleakAbi.AllocKey, MemleakAbi.AllocInfo>("outstanding");
        var batch = GC.AllocateUninitializedArray<OutstandingAllocation>(batchSize);
        read(_outstanding, batchSize, (keys, values) =>
        {
            for (int i = 0; i < keys.Length; i++)
            {
                ref readonly MemleakAbi.AllocInfo info = ref values[i];
                ref readonly MemleakAbi.AllocKey key = ref keys[i];
                batch[i] = new OutstandingAllocation(AllocationKey.Address(key.Address, _kernel), info.Size, info.TimestampNs, info.StackKey, info.Caller, info.Tid,
                    key.Tgid, key.Image);
            }
            onBatch(batch.AsSpan(0, keys.Length));
        });
    }

    /// <summary>
    /// Removes every block of the given process images (images exec replaced: their blocks died with their address
    /// space) and returns, per image, how many there were and their bytes.
    /// </summary>
    public Dictionary<uint, (long Count, ulong Bytes)> Drop(IReadOnlySet<uint> images)
    {
        _outstanding ??= _bpf.HashMap<MemleakAbi.AllocKey, MemleakAbi.AllocInfo>("outstanding");
        var dropped = new Dictionary<uint, (long Count, ulong Bytes)>();
        var doomed = new List<MemleakAbi.AllocKey>();
        _outstanding.ReadAll(BatchSize, (keys, values) =>
        {
            for (int i = 0; i < keys.Length; i++)
            {
                if (!images.Contains(keys[i].Image)) continue;
                doomed.Add(keys[i]);
                dropped.TryGetValue(keys[i].Image, out var sum);
                dropped[keys[i].Image] = (sum.Count + 1, sum.Bytes + values[i].Size);
            }
        });
        foreach (var key in doomed) _outstanding.Delete(key);
        return dropped;
    }
}
