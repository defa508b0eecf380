using System;
using Microsoft.Win32.SafeHandles;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>Owns a libbpf <c>struct bpf_object</c>; closing it unloads its programs and maps.</summary>
internal sealed class BpfObjectHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public BpfObjectHandle() : base(ownsHandle: true) { }

    internal BpfObjectHandle(IntPtr handle) : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        Libbpf.ObjectClose(handle);
        return true;
    }
}
