using System;
using System.Runtime.InteropServices;
using LeakTools.Module;

namespace LeakTools.Interop;

/// <summary>
/// libbpf.so.1 (1.1 ABI). Object/program/map/link pointers are wrapped by the SafeHandles in
/// <c>LeakTools.Bpf</c>; nothing outside that folder calls these directly. libbpf 1.x returns
/// negative errno values (and sets errno) from every int-returning call, NULL + errno from constructors.
/// The print callback (va_list) is deliberately never marshalled: it is switched off, and the verifier
/// log goes to a buffer given in the open options instead.
/// </summary>
internal static unsafe partial class Libbpf
{
    static Libbpf() => NativeLibraryResolver.EnsureRegistered();

    /// <summary>struct bpf_object_open_opts (libbpf 1.1, any LP64 architecture): 80 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 80)]
    internal struct ObjectOpenOptions
    {
        [FieldOffset(0)] public nuint Size;
        [FieldOffset(8)] public IntPtr ObjectName;
        [FieldOffset(56)] public IntPtr KernelLogBuffer;
        [FieldOffset(64)] public nuint KernelLogSize;
        [FieldOffset(72)] public uint KernelLogLevel;
    }

    /// <summary>struct bpf_uprobe_opts (libbpf 1.1): 40 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    internal struct UprobeOptions
    {
        [FieldOffset(0)] public nuint Size;
        [FieldOffset(8)] public nuint RefCounterOffset;
        [FieldOffset(16)] public ulong Cookie;
        [FieldOffset(24)] public byte Retprobe;
        [FieldOffset(32)] public IntPtr FunctionName;
    }

    /// <summary>struct bpf_perf_event_opts up to its bpf_cookie (libbpf 0.5): 16 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 16)]
    internal struct PerfEventOptions
    {
        [FieldOffset(0)] public nuint Size;
        [FieldOffset(8)] public ulong Cookie;
    }

    /// <summary>struct bpf_map_batch_opts: 24 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MapBatchOptions
    {
        public nuint Size;
        public ulong ElementFlags;
        public ulong Flags;
    }

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "libbpf_set_print")]
    internal static partial IntPtr SetPrint(IntPtr printFunction);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_object__open_mem", SetLastError = true)]
    internal static partial IntPtr ObjectOpenMem(byte* buffer, nuint size, ObjectOpenOptions* options);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_object__load")]
    internal static partial int ObjectLoad(IntPtr obj);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_object__close")]
    internal static partial void ObjectClose(IntPtr obj);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_object__find_program_by_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr FindProgramByName(IntPtr obj, string name);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_object__find_map_by_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr FindMapByName(IntPtr obj, string name);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__set_autoload")]
    internal static partial int ProgramSetAutoload(IntPtr program, [MarshalAs(UnmanagedType.U1)] bool autoload);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__set_expected_attach_type")]
    internal static partial int ProgramSetExpectedAttachType(IntPtr program, uint attachType);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__fd")]
    internal static partial int ProgramFd(IntPtr program);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__attach_uprobe_opts", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial IntPtr AttachUprobe(IntPtr program, int pid, string binaryPath, nuint fileOffset, UprobeOptions* options);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__attach_perf_event_opts", SetLastError = true)]
    internal static partial IntPtr AttachPerfEvent(IntPtr program, int perfEventFd, PerfEventOptions* options);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__attach", SetLastError = true)]
    internal static partial IntPtr Attach(IntPtr program);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_link__destroy")]
    internal static partial int LinkDestroy(IntPtr link);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map__set_max_entries")]
    internal static partial int MapSetMaxEntries(IntPtr map, uint maxEntries);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map__set_map_flags")]
    internal static partial int MapSetFlags(IntPtr map, uint flags);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map__initial_value")]
    internal static partial IntPtr MapInitialValue(IntPtr map, nuint* size);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map__key_size")]
    internal static partial uint MapKeySize(IntPtr map);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map__value_size")]
    internal static partial uint MapValueSize(IntPtr map);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map__max_entries")]
    internal static partial uint MapMaxEntries(IntPtr map);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map__fd")]
    internal static partial int MapFd(IntPtr map);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map_lookup_elem", SetLastError = true)]
    internal static partial int MapLookupElement(int fd, void* key, void* value);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map_update_elem", SetLastError = true)]
    internal static partial int MapUpdateElement(int fd, void* key, void* value, ulong flags);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map_delete_elem", SetLastError = true)]
    internal static partial int MapDeleteElement(int fd, void* key);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_map_lookup_batch", SetLastError = true)]
    internal static partial int MapLookupBatch(int fd, void* inBatch, void* outBatch, void* keys, void* values, uint* count, MapBatchOptions* options);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_object__next_program")]
    internal static partial IntPtr ObjectNextProgram(IntPtr obj, IntPtr previous);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__name")]
    internal static partial IntPtr ProgramName(IntPtr program);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__set_log_level")]
    internal static partial int ProgramSetLogLevel(IntPtr program, uint level);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_program__set_log_buf")]
    internal static partial int ProgramSetLogBuffer(IntPtr program, IntPtr buffer, nuint size);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "bpf_obj_get_info_by_fd", SetLastError = true)]
    internal static partial int ObjectGetInfoByFd(int fd, void* info, uint* length);

    [LibraryImport(LibraryNames.Libbpf, EntryPoint = "libbpf_num_possible_cpus")]
    internal static partial int NumPossibleCpus();
}
