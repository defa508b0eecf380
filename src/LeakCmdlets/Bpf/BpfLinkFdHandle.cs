using System;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>Owns a bpf link created by a raw BPF_LINK_CREATE (a file descriptor; closing it detaches).</summary>
internal sealed class BpfLinkFdHandle : BpfInteriorHandle
{
    internal BpfLinkFdHandle(int fd, BpfObjectHandle parent) : base((IntPtr)fd, parent) { }

    public override bool IsInvalid => handle.ToInt64() < 0;

    protected override void ReleaseNative() => LinuxSyscalls.Close((int)handle.ToInt64());
}
