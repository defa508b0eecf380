using System;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>Owns a libbpf <c>struct ring_buffer</c> consumer over a map of its parent object.</summary>
internal sealed class RingBufferHandle : BpfInteriorHandle
{
    internal RingBufferHandle(IntPtr ringBuffer, BpfObjectHandle parent) : base(ringBuffer, parent) { }

    protected override void ReleaseNative() => Libbpf.RingBufferFree(handle);
}
