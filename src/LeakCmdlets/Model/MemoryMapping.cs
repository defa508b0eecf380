using System;
using System.Collections.Generic;

namespace LeakTools.Model;

/// <summary>
/// One mapping of a process, as /proc/PID/maps describes it, with the page counts of /proc/PID/smaps.
/// Sizes are bytes. smaps fields are null when read from maps only, or when the running kernel does not
/// print them (the kernel version that added each is noted); anything this type does not name lands in
/// <see cref="OtherFields"/>.
/// </summary>
public sealed class MemoryMapping
{
    public int ProcessId { get; set; }
    public string? ProcessName { get; set; }
    /// <summary>When the mapping was read; lets a comparison compute rates.</summary>
    public DateTime Timestamp { get; set; }

    public ulong Start { get; set; }
    /// <summary>One past the last byte.</summary>
    public ulong End { get; set; }
    public long Size { get; set; }
    /// <summary>As the kernel prints them: "r-xp", "rw-s"...</summary>
    public string Permissions { get; set; } = "";
    public ulong Offset { get; set; }
    /// <summary>"major:minor" in hex, as printed.</summary>
    public string Device { get; set; } = "";
    public ulong Inode { get; set; }
    /// <summary>The path or pseudo-path as printed ("[heap]", "/usr/lib/libc.so.6 (deleted)"); empty for anonymous memory.</summary>
    public string Path { get; set; } = "";
    public MappingKind Kind { get; set; }
    /// <summary>The file was deleted after it was mapped.</summary>
    public bool IsDeleted { get; set; }

    public long? KernelPageSize { get; set; }
    public long? MmuPageSize { get; set; }
    public long? Rss { get; set; }
    public long? Pss { get; set; }
    /// <summary>Linux 6.0.</summary>
    public long? PssDirty { get; set; }
    public long? SharedClean { get; set; }
    public long? SharedDirty { get; set; }
    public long? PrivateClean { get; set; }
    public long? PrivateDirty { get; set; }
    public long? Referenced { get; set; }
    public long? Anonymous { get; set; }
    /// <summary>Linux 6.7.</summary>
    public long? Ksm { get; set; }
    /// <summary>Linux 4.12.</summary>
    public long? LazyFree { get; set; }
    public long? AnonHugePages { get; set; }
    /// <summary>Linux 4.8.</summary>
    public long? ShmemPmdMapped { get; set; }
    /// <summary>Linux 5.4.</summary>
    public long? FilePmdMapped { get; set; }
    public long? SharedHugetlb { get; set; }
    public long? PrivateHugetlb { get; set; }
    public long? Swap { get; set; }
    /// <summary>Linux 4.3.</summary>
    public long? SwapPss { get; set; }
    public long? Locked { get; set; }
    /// <summary>Whether the mapping may use transparent huge pages (Linux 4.18).</summary>
    public bool? ThpEligible { get; set; }
    /// <summary>Memory protection key, on machines with pkeys (Linux 4.9).</summary>
    public int? ProtectionKey { get; set; }
    /// <summary>The two-letter VmFlags codes, blank-separated as the kernel prints them ("rd wr mr mw me ac").</summary>
    public string? VmFlags { get; set; }
    /// <summary>Every other field the kernel printed; values are bytes for "kB" fields, numbers or text otherwise.</summary>
    public Dictionary<string, object> OtherFields { get; set; } = new();

    /// <summary>Dirty pages, shared plus private: pmap -x's Dirty column.</summary>
    public long? Dirty => SharedDirty is null && PrivateDirty is null ? null : (SharedDirty ?? 0) + (PrivateDirty ?? 0);

    /// <summary>Pages only this process maps (private clean plus dirty): what the mapping adds to USS.</summary>
    public long? Private => PrivateClean is null && PrivateDirty is null ? null : (PrivateClean ?? 0) + (PrivateDirty ?? 0);

    public override string ToString() =>
        $"{Start:x}-{End:x} {Permissions} {(Path.Length == 0 ? "[anon]" : Path)}";
}
