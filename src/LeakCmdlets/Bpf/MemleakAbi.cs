using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using LeakTools.Model;

namespace LeakTools.Bpf;

/// <summary>
/// Mirror of native/memleak.h (the structs shared by memleak.bpf.c, allocount.bpf.c and user space).
/// Change both together. The sizes are checked where data arrives: the maps' key and value sizes right after open
/// (<see cref="MapLayouts"/>), the .rodata size when it is written, and each ring record's size as it is read
/// (a record of another size is counted, never taken). MemleakAbiTests compares every size and offset with a
/// program compiled against the header.
/// </summary>
internal static class MemleakAbi
{
    public const int MaxStackDepth = 128;          // MEMLEAK_MAX_STACK_DEPTH
    public const int FunctionCount = 107;          // MEMLEAK_FN_COUNT
    public const int AllocountSlots = FunctionCount * 2;
    public const int KeyTagShift = 56;             // MEMLEAK_KEY_TAG_SHIFT
    public const ulong KeyTagPercpu = 2;           // MEMLEAK_KEY_TAG_PERCPU
    public const int UnwindMaxMappings = 512;      // MEMLEAK_UNWIND_MAX_MAPPINGS
    public const int UnwindMaxModules = 1024;      // MEMLEAK_UNWIND_MAX_MODULES
    public const int UnwindPageShift = 12;         // MEMLEAK_UNWIND_PAGE_SHIFT
    public const int StackEndDepthLimit = 3;       // MEMLEAK_STACK_END_DEPTH_LIMIT (LeakTools.Model.StackEnd follows enum memleak_stack_end)
    public const int StackEndBadFrame = 5;         // MEMLEAK_STACK_END_BAD_FRAME, its last member
    public const int UnwindKindUnknown = 5;        // MEMLEAK_UNWIND_UNKNOWN (LeakTools.Unwinding.UnwindRowKind follows enum memleak_unwind_kind)

    /// <summary>
    /// MEMLEAK_STATS (enum memleak_stat): the per-CPU counters of the "stats" array, each with the TraceLoss counter
    /// it rolls into (none: a count or a deliberate skip). A counter added here reaches TracerStatistics and, through
    /// its loss, TraceLoss and the cmdlets' warning; MemleakAbiTests compares this list with the header's.
    /// </summary>
    public enum Stat
    {
        Allocs = 0,
        Frees,
        UnknownFrees,
        FailedAllocs,
        [RollsInto(TraceLossKind.MapFull)] MapFull,
        [RollsInto(TraceLossKind.StacksLost)] StackMapFull,
        [RollsInto(TraceLossKind.StacksLost)] StackErrors,
        [RollsInto(TraceLossKind.MissedReturns)] MissedReturns,
        [RollsInto(TraceLossKind.RingBufferDrops)] RingbufDrops,
        [RollsInto(TraceLossKind.MissedReturns)] NestingOverflow,
        [RollsInto(TraceLossKind.MissedReturns)] PendingErrors,
        SampledOut,
        FilteredOut,
        NestedCalls,
        [RollsInto(TraceLossKind.RingBufferDrops)] ProcessEventDrops,
        /// <summary>Not a counter: + AllocatorFunction, probe hits per function (entry side).</summary>
        HitsBase,
    }

    public const int StatCount = (int)Stat.HitsBase + FunctionCount;   // MEMLEAK_STAT_COUNT

    /// <summary>The loss column of <see cref="Stat"/>, indexed by it (up to HitsBase).</summary>
    public static readonly TraceLossKind[] StatLoss = Enum.GetValues<Stat>().Where(s => s != Stat.HitsBase)
        .Select(s => typeof(Stat).GetField(s.ToString())!.GetCustomAttribute<RollsIntoAttribute>()?.Loss ?? TraceLossKind.None)
        .ToArray();

    /// <summary>The maps user space reads, per eBPF object, with the key and value types it reads them with.</summary>
    public static IReadOnlyList<BpfMapLayout> MapLayouts(string objectName) => objectName switch
    {
        "memleak" => MemleakMaps,
        "allocount" => AllocountMaps,
        _ => Array.Empty<BpfMapLayout>(),
    };

    private static readonly BpfMapLayout[] MemleakMaps =
    {
        BpfMapLayout.Of<AllocKey, AllocInfo>("outstanding"), // key: the block's address, process and image
        BpfMapLayout.Of<ulong, Stack>("stacks"),            // key: the stack's hash
        BpfMapLayout.Of<uint, ulong>("stats"),              // per CPU, key: enum memleak_stat
        BpfMapLayout.Of<uint, Process>("traced"),           // key: tgid
    };

    private static readonly BpfMapLayout[] AllocountMaps =
    {
        BpfMapLayout.Of<uint, ulong>("counts"),             // per CPU, key: function * 2 + (0 entry, 1 return)
    };

    /// <summary>struct memleak_config: the .rodata of memleak.bpf.c (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Config
    {
        public ulong MinSize;
        public ulong MaxSize;
        public uint TargetTgid;
        public uint SampleRate;
        public byte StreamEvents;
        public byte CaptureStacks;
        public byte TrackOutstanding;
        public byte FollowChildren;
        public uint IgnoredTgid;
        public ulong PageSize;
    }

    /// <summary>struct memleak_alloc_key: key of the "outstanding" map (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct AllocKey
    {
        public ulong Address;
        public uint Tgid;
        public uint Image;
    }

    /// <summary>struct memleak_process: value of the "traced" map, key = tgid (8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Process
    {
        public uint Image;
        public uint Reserved;
    }

    /// <summary>enum memleak_process_event_kind.</summary>
    public enum ProcessEventKind : uint
    {
        Fork = 1,
        Exec = 2,
        Exit = 3,
        UntracedFork = 4,
    }

    /// <summary>struct memleak_process_event: one record of the "process_events" ring (48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct ProcessEvent
    {
        public const int CommBytes = 16;

        public ulong TimestampNs;
        public ProcessEventKind Kind;
        public uint Tgid;
        public uint ParentTgid;
        public uint Image;
        public uint PreviousImage;
        public uint Reserved;
        public fixed byte Comm[CommBytes];

        public readonly string CommText()
        {
            fixed (byte* comm = Comm)
            {
                var bytes = new ReadOnlySpan<byte>(comm, CommBytes);
                int end = bytes.IndexOf((byte)0);
                return System.Text.Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
            }
        }
    }

    /// <summary>struct memleak_alloc_info: value of the "outstanding" map (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct AllocInfo
    {
        public ulong Size;
        public ulong TimestampNs;
        public ulong Caller;
        public ulong StackKey;
        public uint Tid;
        public uint Reserved;
    }

    /// <summary>struct memleak_stack: value of the "stacks" map, key = the stack's 64-bit hash (1032 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct Stack
    {
        public uint Depth;
        public uint End;   // user stacks: enum memleak_stack_end | enum memleak_unwinder << 8
        public fixed ulong Frames[MaxStackDepth];
    }

    /// <summary>struct memleak_unwind_mapping: element of "unwind_mappings" (32 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UnwindMapping
    {
        public ulong Start;
        public ulong End;
        public ulong Bias;
        public uint Module;   // index in unwind_modules + 1; 0: no table
        public uint Reserved;
    }

    /// <summary>struct memleak_unwind_module: element of "unwind_modules" (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UnwindModule
    {
        public uint FirstPage;
        public uint PageCount;
        public uint PageBase;
        public uint Reserved;
    }

    /// <summary>struct memleak_unwind_state: "unwind_state"[0] (8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UnwindState
    {
        public uint Active;
        public uint Count;
    }

    /// <summary>struct memleak_event: one ring-buffer record (56 bytes; 64 with the ring's header).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Event
    {
        public const int IdBits = 22;   // MEMLEAK_EVENT_ID_BITS
        private const ulong IdMask = (1UL << IdBits) - 1;

        public ulong TimestampNs;
        public ulong Address;
        public ulong Size;
        public ulong Caller;
        public ulong StackKey;
        public ulong PreviousAddress;
        public ulong Ids;   // tid | pid << 22 | function << 44

        public readonly uint Tid => (uint)(Ids & IdMask);
        public readonly uint Pid => (uint)((Ids >> IdBits) & IdMask);
        public readonly uint Function => (uint)(Ids >> (2 * IdBits));
    }
}
