using System;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>A borrowed <c>struct bpf_map *</c> inside a <see cref="BpfObjectHandle"/>.</summary>
internal sealed class BpfMapHandle : BpfInteriorHandle
{
    public string Name { get; }

    internal BpfMapHandle(IntPtr map, BpfObjectHandle parent, string name) : base(map, parent) => Name = name;

    /// <summary>The map's file descriptor; valid after the object is loaded.</summary>
    public int Fd => Libbpf.MapFd(handle);
}
