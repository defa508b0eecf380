using System;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>
/// A BPF_F_MMAPABLE array map mapped read-write into this process: user space writes its elements in place, with
/// no system call per element, and the BPF side sees each store at once. Holds a reference on the parent object.
/// </summary>
internal sealed unsafe class BpfArrayMapping : BpfInteriorHandle
{
    private readonly nuint _length;

    internal BpfArrayMapping(IntPtr address, nuint length, int elementSize, uint entries, string name, BpfObjectHandle parent)
        : base(address, parent)
    {
        _length = length;
        ElementSize = elementSize;
        Entries = entries;
        Name = name;
    }

    public string Name { get; }

    public int ElementSize { get; }

    /// <summary>The map's max_entries.</summary>
    public uint Entries { get; }

    /// <summary>The elements, as <typeparamref name="T"/> (its size must be the map's value size).</summary>
    public Span<T> Elements<T>() where T : unmanaged
    {
        if (sizeof(T) != ElementSize) throw new ArgumentException($"The map '{Name}' holds {ElementSize}-byte elements, not {typeof(T).Name} ({sizeof(T)} bytes).");
        if (IsClosed) throw new ObjectDisposedException(Name);
        return new Span<T>((void*)handle, checked((int)Entries));
    }

    protected override void ReleaseNative() => LinuxSyscalls.Munmap(handle, _length);
}
