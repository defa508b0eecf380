using System;
using System.Runtime.InteropServices;

namespace LeakTools.Bpf;

/// <summary>
/// A pointer owned by another libbpf object (a map or program inside a bpf_object, a link or
/// ring buffer that needs the object's fds). It holds a reference on the parent handle, so the
/// parent cannot be closed underneath it; releasing it only drops that reference unless
/// <see cref="ReleaseNative"/> frees something of its own.
/// </summary>
internal abstract class BpfInteriorHandle : SafeHandle
{
    private readonly SafeHandle _parent;
    private readonly bool _parentReferenced;

    protected BpfInteriorHandle(IntPtr handle, SafeHandle parent) : base(new IntPtr(-1), ownsHandle: true)
    {
        _parent = parent;
        bool added = false;
        parent.DangerousAddRef(ref added);
        _parentReferenced = added;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero || handle == new IntPtr(-1);

    protected virtual void ReleaseNative() { }

    protected sealed override bool ReleaseHandle()
    {
        try { ReleaseNative(); }
        finally { if (_parentReferenced) _parent.DangerousRelease(); }
        return true;
    }
}
