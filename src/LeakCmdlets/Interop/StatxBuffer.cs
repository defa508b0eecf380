using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>
/// struct statx (include/uapi/linux/stat.h), the fields up to the device numbers; the kernel writes 256 bytes,
/// the reserved rest included. MemleakAbiTests compares the layout with the running kernel's BTF.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
internal unsafe struct StatxBuffer
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
    public ulong Size;            // stx_size
    public ulong Blocks;          // stx_blocks
    public ulong AttributesMask;  // stx_attributes_mask
    private fixed byte _times[64]; // stx_atime, stx_btime, stx_ctime, stx_mtime (struct statx_timestamp, 16 bytes each)
    public uint RdevMajor;        // stx_rdev_major
    public uint RdevMinor;        // stx_rdev_minor
    public uint DevMajor;         // stx_dev_major
    public uint DevMinor;         // stx_dev_minor

    /// <summary>S_IFMT bits of <see cref="Mode"/>, and the file types LeakTools tells apart.</summary>
    public const int FileTypeMask = 0xF000, RegularFile = 0x8000, Directory = 0x4000;

    /// <summary>STATX_INO: ask for (and check the kernel filled) <see cref="Inode"/>.</summary>
    public const uint InodeField = 0x100;

    /// <summary>STATX_TYPE, STATX_MODE and STATX_SIZE: what the file is, and how big.</summary>
    public const uint TypeField = 0x1, ModeField = 0x2, SizeField = 0x200;

    /// <summary>The device number as st_dev packs it (new_encode_dev), so it compares with /proc's device fields.</summary>
    public readonly ulong Device => ((ulong)DevMajor << 8 & 0xfff00) | (DevMinor & 0xff) | ((ulong)DevMinor << 12 & 0xfff00000);
}
