using System;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>Owns a <c>struct bpf_link</c> (one attached probe); destroying it detaches the probe.</summary>
internal sealed class BpfLinkHandle : BpfInteriorHandle
{
    internal BpfLinkHandle(IntPtr link, BpfObjectHandle parent) : base(link, parent) { }

    protected override void ReleaseNative() => Libbpf.LinkDestroy(handle);
}
