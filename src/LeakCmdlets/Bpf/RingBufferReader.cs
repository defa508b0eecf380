using System;
using System.Threading;

namespace LeakTools.Bpf;

/// <summary>
/// Reads a BPF ring buffer map in place, through its memory mapping (the layout of kernel/bpf/ringbuf.c).
/// It stores the consumer position once per batch, where libbpf's ring_buffer__consume stores it after every
/// record: the BPF side reads that position on every reserve, so a store per record moved its cache line
/// between the consumer's CPU and the traced thread's CPU once per event. No callback per record either.
/// One consuming thread at a time; Dispose may come from any thread (the mapping lives until the read ends).
/// </summary>
internal sealed unsafe class RingBufferReader : IDisposable
{
    internal const uint BusyBit = 1u << 31;
    internal const uint DiscardBit = 1u << 30;
    internal const int HeaderBytes = 8;

    private readonly RingBufferMapping _mapping;
    private readonly ulong _mask;
    private long _mismatchedRecords;

    internal RingBufferReader(RingBufferMapping mapping, ulong dataBytes)
    {
        _mapping = mapping;
        _mask = dataBytes - 1;
    }

    /// <summary>
    /// Records skipped because their size is not a whole number of items: the BPF side and the C# mirror of its
    /// record disagree (native/memleak.h vs Bpf/MemleakAbi.cs), so every such event is lost. Any thread may read it.
    /// </summary>
    public long MismatchedRecords => Interlocked.Read(ref _mismatchedRecords);

    /// <summary>How far the BPF side has reserved, in bytes since the start (records below it may still be busy).</summary>
    public ulong ProducerPosition => Position(_mapping.Producer);

    /// <summary>How far this reader has read, in bytes since the start.</summary>
    public ulong ConsumerPosition => Position(_mapping.Consumer);

    private ulong Position(IntPtr word)
    {
        bool added = false;
        try
        {
            _mapping.DangerousAddRef(ref added);
            return Volatile.Read(ref *(ulong*)word);
        }
        catch (ObjectDisposedException) { return 0; }
        finally { if (added) _mapping.DangerousRelease(); }
    }

    /// <summary>
    /// Copies the items of committed records into <paramref name="destination"/>, oldest first, as far as whole
    /// records fit, and frees their space in the ring. Returns how many items; 0 when none is waiting or the
    /// reader is disposed.
    /// </summary>
    public int Read<T>(Span<T> destination) where T : unmanaged
    {
        bool added = false;
        try
        {
            _mapping.DangerousAddRef(ref added);
            byte* data = (byte*)_mapping.Producer + Environment.SystemPageSize;
            int count = ReadRecords((ulong*)_mapping.Consumer, (ulong*)_mapping.Producer, data, _mask, destination, out int mismatched);
            if (mismatched != 0) Interlocked.Add(ref _mismatchedRecords, mismatched);
            return count;
        }
        catch (ObjectDisposedException) { return 0; }
        finally { if (added) _mapping.DangerousRelease(); }
    }

    /// <summary>
    /// The ring's record format (kernel/bpf/ringbuf.c): an 8-byte header whose first word is the length with a
    /// busy bit (reserved, not submitted yet) and a discard bit; records are 8-byte aligned and never wrap,
    /// because the data pages are mapped twice in a row. A record holds one or more <typeparamref name="T"/>.
    /// Copies the items of committed records while whole records fit, skips discarded ones, counts records of
    /// another size as mismatched, stops at a busy one, and stores the new consumer position once.
    /// </summary>
    internal static int ReadRecords<T>(ulong* consumerPos, ulong* producerPos, byte* data, ulong mask, Span<T> destination, out int mismatched)
        where T : unmanaged
    {
        mismatched = 0;
        ulong consumer = Volatile.Read(ref *consumerPos);
        ulong producer = Volatile.Read(ref *producerPos);
        int count = 0;
        while (consumer < producer && count < destination.Length)
        {
            uint* header = (uint*)(data + (consumer & mask));
            uint length = Volatile.Read(ref *header);
            if ((length & BusyBit) != 0) break;   // reserved, not submitted yet: later records wait behind it
            uint bytes = length & ~(BusyBit | DiscardBit);
            ulong next = consumer + ((bytes + HeaderBytes + 7) & ~7u);
            if ((length & DiscardBit) == 0)
            {
                if (bytes == 0 || bytes % (uint)sizeof(T) != 0) mismatched++;
                else
                {
                    int items = (int)(bytes / (uint)sizeof(T));
                    if (items > destination.Length - count) break;   // taken by the next read, whole
                    new ReadOnlySpan<T>((byte*)header + HeaderBytes, items).CopyTo(destination[count..]);
                    count += items;
                }
            }
            consumer = next;
        }
        Volatile.Write(ref *consumerPos, consumer);
        return count;
    }

    public void Dispose() => _mapping.Dispose();
}
