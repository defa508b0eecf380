using System;
using System.IO;
using System.Runtime.CompilerServices;
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
    /// Every entry, read with batched lookups (BPF_MAP_LOOKUP_BATCH) of up to <paramref name="batchSize"/> entries
    /// into one pair of buffers, each batch handed to <paramref name="onBatch"/>. Entries added or removed meanwhile
    /// may or may not be seen; none is seen twice.
    /// </summary>
    public void ReadAll(int batchSize, BpfBatchHandler<TKey, TValue> onBatch)
    {
        var keys = GC.AllocateUninitializedArray<TKey>(batchSize);
        var values = GC.AllocateUninitializedArray<TValue>(batchSize);
        ulong inBatch = 0, outBatch = 0;   // the kernel's resume token (a bucket index for hash maps)
        bool first = true;
        var options = new Libbpf.MapBatchOptions { Size = (nuint)sizeof(Libbpf.MapBatchOptions) };
        fixed (TKey* k = keys)
        fixed (TValue* v = values)
        {
            while (true)
            {
                uint count = (uint)batchSize;
                int rc = Libbpf.MapLookupBatch(_fd, first ? null : &inBatch, &outBatch, k, v, &count, &options);
                var error = rc < 0 ? (Errno)(-rc) : 0;
                if (rc < 0 && error != Errno.ENOENT /* no more entries */)
                {
                    if (error == Errno.ENOSPC && count == 0)
                        throw new InvalidOperationException($"A hash bucket of the map '{Name}' is larger than the read batch.");
                    throw new IOException($"Reading the map '{Name}' failed: {ErrnoMessage.Describe(error)}.");
                }
                if (count > 0) onBatch(keys.AsSpan(0, (int)count), values.AsSpan(0, (int)count));
                if (error == Errno.ENOENT) return;
                inBatch = outBatch;
                first = false;
            }
        }
    }
}
