using System;

namespace LeakTools.Bpf;

/// <summary>A borrowed <c>struct bpf_program *</c> inside a <see cref="BpfObjectHandle"/>.</summary>
internal sealed class BpfProgramHandle : BpfInteriorHandle
{
    public string Name { get; }

    internal BpfProgramHandle(IntPtr program, BpfObjectHandle parent, string name) : base(program, parent) => Name = name;
}
