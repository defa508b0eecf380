using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>
/// union bpf_attr as BPF_LINK_CREATE reads it for a multi-uprobe link: the <c>link_create</c> member with its
/// <c>uprobe_multi</c> arm (include/uapi/linux/bpf.h, Linux 6.6+). MemleakAbiTests compares the offsets with the
/// running kernel's BTF.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BpfLinkCreateAttr
{
    public uint ProgramFd;           // link_create.prog_fd
    public uint TargetFd;            // link_create.target_fd
    public uint AttachType;          // link_create.attach_type
    public uint Flags;               // link_create.flags
    public ulong Path;               // link_create.uprobe_multi.path
    public ulong Offsets;            // link_create.uprobe_multi.offsets
    public ulong RefCounterOffsets;  // link_create.uprobe_multi.ref_ctr_offsets
    public ulong Cookies;            // link_create.uprobe_multi.cookies
    public uint Count;               // link_create.uprobe_multi.cnt
    public uint UprobeMultiFlags;    // link_create.uprobe_multi.flags
    public uint Pid;                 // link_create.uprobe_multi.pid
    private uint _padding;

    /// <summary>BPF_F_UPROBE_MULTI_RETURN: the link is a return probe.</summary>
    public const uint UprobeMultiReturn = 1;
}
