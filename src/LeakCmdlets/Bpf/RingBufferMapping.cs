using System;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>
/// The two memory mappings of a BPF ring buffer map: the consumer page (read-write) and the producer page
/// followed by the data pages, mapped twice in a row by the kernel so a record never wraps (read-only).
/// Holds a reference on the parent object, like every handle inside it.
/// </summary>
internal sealed class RingBufferMapping : BpfInteriorHandle
{
    private readonly IntPtr _producer;
    private readonly nuint _consumerLength;
    private readonly nuint _producerLength;

    internal RingBufferMapping(IntPtr consumer, nuint consumerLength, IntPtr producer, nuint producerLength, BpfObjectHandle parent)
        : base(consumer, parent)
    {
        _consumerLength = consumerLength;
        _producer = producer;
        _producerLength = producerLength;
    }

    internal IntPtr Consumer => handle;

    internal IntPtr Producer => _producer;

    protected override void ReleaseNative()
    {
        LinuxSyscalls.Munmap(handle, _consumerLength);
        LinuxSyscalls.Munmap(_producer, _producerLength);
    }
}
