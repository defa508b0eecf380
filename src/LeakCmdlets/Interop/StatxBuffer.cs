using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>
/// struct statx (include/uapi/linux/stat.h), the fields up to the inode number; the kernel writes 256 bytes,
/// the reserved rest included. MemleakAbiTests compares the layout with the running kernel's BTF.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
internal struct StatxBuffer
{
    public uint Mask;             // stx_mask: which fields the kernel filled
    public uint BlockSize;        // stx_blksize
    public ulong Attributes;      // stx_attributes
    public uint LinkCount;        // stx_nlink
    public uint Uid;              // stx_uid
    public uint Gid;              // stx_gid
    public ushort Mode;           // stx_mode
    private ushort _spare0;
    public ulong Inode;           // stx_ino

    /// <summary>STATX_INO: ask for (and check the kernel filled) <see cref="Inode"/>.</summary>
    public const uint InodeField = 0x100;
}
