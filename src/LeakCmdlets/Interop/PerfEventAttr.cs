using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>
/// The first 64 bytes of struct perf_event_attr (PERF_ATTR_SIZE_VER0), all perf_event_open needs for a tracepoint
/// event: the kernel takes the size from <see cref="Size"/> and zero-fills the rest.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PerfEventAttr
{
    public const uint SizeVer0 = 64;
    public const uint TypeTracepoint = 2;      // PERF_TYPE_TRACEPOINT
    public const ulong FlagInherit = 1UL << 1; // the "inherit" bit: children created after the open get a copy

    public uint Type;
    public uint Size;
    public ulong Config;
    public ulong SamplePeriod;
    public ulong SampleType;
    public ulong ReadFormat;
    public ulong Flags;          // the bitfield word: disabled, inherit, pinned, ...
    public uint WakeupEvents;
    public uint BpType;
    public ulong Config1;
}
