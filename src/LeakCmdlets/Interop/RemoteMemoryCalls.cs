using System.Runtime.InteropServices;
using LeakTools.Module;

namespace LeakTools.Interop;

/// <summary>
/// Reading another process's memory for a reachability scan: process_vm_readv (one call copies many ranges),
/// pread on /proc/PID/mem for ranges it cannot read whole, and the PAGEMAP_SCAN ioctl of /proc/PID/pagemap
/// (Linux 6.7), which lists the pages that exist so that a huge reserved but untouched mapping costs nothing.
/// </summary>
internal static unsafe partial class RemoteMemoryCalls
{
    static RemoteMemoryCalls() => NativeLibraryResolver.EnsureRegistered();

    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>process_vm_readv(2): bytes copied, or -1 with errno (a partial copy stops at the first unreadable page).</summary>
    [LibraryImport(LibraryNames.Libc, EntryPoint = "process_vm_readv", SetLastError = true)]
    internal static partial nint ProcessVmReadv(int pid, IoVector* local, nuint localCount, IoVector* remote, nuint remoteCount, nuint flags);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "pread", SetLastError = true)]
    internal static partial nint Pread(int fd, void* buffer, nuint count, long offset);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, nuint request, void* argument);

    /// <summary>_IOWR('f', 16, struct pm_scan_arg) from include/uapi/linux/fs.h.</summary>
    internal const nuint PagemapScan = 0xC0606610;
    internal const ulong PageIsPresent = 1 << 3, PageIsSwapped = 1 << 4;

    /// <summary>struct pm_scan_arg (include/uapi/linux/fs.h), 96 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PagemapScanArgument
    {
        public ulong Size, Flags, Start, End, WalkEnd, Vector, VectorLength, MaxPages,
            CategoryInverted, CategoryMask, CategoryAnyOfMask, ReturnMask;
    }

    /// <summary>struct page_region: one run of pages with the same categories.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PageRegion
    {
        public ulong Start, End, Categories;
    }
}
