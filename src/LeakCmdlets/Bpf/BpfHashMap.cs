using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>
/// A loaded BPF hash map read from user space, its key and value types checked against the map's declared sizes
/// when <see cref="BpfObject.HashMap{TKey, TValue}"/> made it. Mostly read: the BPF side writes, except where user
/// space seeds a map (the traced process) or drops what it knows to be dead (an exec'd image's blocks).
/// </summary>
internal sealed unsafe class BpfHashMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
{
    private readonly int _fd;

    public string Name { get; }

    internal BpfHashMap(string name, int fd)
    {
        Name = name;
        _fd = fd;
    }

    /// <summary>One entry by key (BPF_MAP_LOOKUP_ELEM); false when the key is not there.</summary>
    public bool TryLookup(TKey key, out TValue value)
    {
        Unsafe.SkipInit(out value);
        fixed (TValue* destination = &value)
            return Libbpf.MapLookupElement(_fd, &key, destination) == 0;
    }

    /// <summary>Adds or replaces one entry (BPF_MAP_UPDATE_ELEM, BPF_ANY).</summary>
    public void Update(TKey key, TValue value)
    {
        int rc = Libbpf.MapUpdateElement(_fd, &key, &value, 0);
        if (rc < 0) throw new IOException($"Writing the map '{Name}' failed: {ErrnoMessage.Describe((Errno)(-rc))}.");
    }

    /// <summary>Removes one entry (BPF_MAP_DELETE_ELEM); false when it was not there.</summary>
    public bool Delete(TKey key) => Libbpf.MapDeleteElement(_fd, &key) == 0;

    /// <summary>
    /// Every entry, read with batched lookups (BPF_MAP_LOOKUP_BATCH) of up to <paramref name="batchSize"/> entries,
    /// each batch handed to <paramref name="onBatch"/> on the calling thread. Two pairs of buffers: the kernel fills
    /// one on a worker while the handler works through the other (for a million blocks, the lookups were a third of
    /// the report's read, and the handler the rest). Entries added or removed meanwhile may or may not be seen; none
    /// is seen twice.
    /// </summary>
    public void ReadAll(int batchSize, BpfBatchHandler<TKey, TValue> onBatch)
    {
        var buffers = new[] { new BatchBuffers(batchSize), new BatchBuffers(batchSize) };
        var options = new Libbpf.MapBatchOptions { Size = (nuint)sizeof(Libbpf.MapBatchOptions) };
        int current = 0;
        Task<BatchResult> pending = Task.Run(() => Lookup(buffers[0], resumeAfter: null, options));
        try
        {
            while (true)
            {
                BatchResult batch = pending.GetAwaiter().GetResult();   // rethrows the lookup's own exception
                if (!batch.Last)
                {
                    ulong token = batch.Token;
                    var next = buffers[1 - current];
                    pending = Task.Run(() => Lookup(next, token, options));
                }
                var filled = buffers[current];
                if (batch.Count > 0) onBatch(filled.Keys.AsSpan(0, batch.Count), filled.Values.AsSpan(0, batch.Count));
                if (batch.Last) return;
                current = 1 - current;
            }
        }
        finally
        {
            // A handler that threw: the lookup in flight still writes into its buffers; let it finish first.
            if (!pending.IsCompleted) ((IAsyncResult)pending).AsyncWaitHandle.WaitOne();
        }
    }

    /// <summary>
    /// The first entries only, up to <paramref name="count"/> (one batched lookup, whole hash buckets): a sample of the
    /// map, in its hash order.
    /// </summary>
    public void ReadFirst(int count, BpfBatchHandler<TKey, TValue> onBatch)
    {
        var buffers = new BatchBuffers(count);
        var batch = Lookup(buffers, resumeAfter: null, new Libbpf.MapBatchOptions { Size = (nuint)sizeof(Libbpf.MapBatchOptions) });
        if (batch.Count > 0) onBatch(buffers.Keys.AsSpan(0, batch.Count), buffers.Values.AsSpan(0, batch.Count));
    }

    // One batch into the buffers; the kernel's resume token (a bucket index for hash maps) goes into the next.
    private BatchResult Lookup(BatchBuffers into, ulong? resumeAfter, Libbpf.MapBatchOptions options)
    {
        ulong inBatch = resumeAfter ?? 0, outBatch = 0;
        uint count = (uint)into.Keys.Length;
        int rc;
        fixed (TKey* k = into.Keys)
        fixed (TValue* v = into.Values)
            rc = Libbpf.MapLookupBatch(_fd, resumeAfter is null ? null : &inBatch, &outBatch, k, v, &count, &options);
        var error = rc < 0 ? (Errno)(-rc) : 0;
        if (rc < 0 && error != Errno.ENOENT /* no more entries */)
        {
            if (error == Errno.ENOSPC && count == 0)
                throw new InvalidOperationException($"A hash bucket of the map '{Name}' is larger than the read batch.");
            throw new IOException($"Reading the map '{Name}' failed: {ErrnoMessage.Describe(error)}.");
        }
        return new BatchResult((int)count, outBatch, Last: error == Errno.ENOENT);
    }

    private readonly record struct BatchResult(int Count, ulong Token, bool Last);

    private sealed class BatchBuffers
    {
        public BatchBuffers(int size)
        {
            Keys = GC.AllocateUninitializedArray<TKey>(size);
            Values = GC.AllocateUninitializedArray<TValue>(size);
        }

        public TKey[] Keys { get; }

        public TValue[] Values { get; }
    }
}
