using System;

namespace LeakTools.Bpf;

/// <summary>
/// Takes one batch of a <see cref="BpfHashMap{TKey, TValue}"/> read: keys and values pair by index. The spans are
/// only valid during the call: the next batch is read into the same buffers.
/// </summary>
internal delegate void BpfBatchHandler<TKey, TValue>(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    where TKey : unmanaged where TValue : unmanaged;
