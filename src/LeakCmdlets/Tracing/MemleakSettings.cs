using System;
using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>
/// What memleak.bpf.c is told before it loads: its read-only configuration (filters, sampling, the traced tgid)
/// and the sizes of its maps.
/// </summary>
internal static class MemleakSettings
{
    private const uint KernelModeMaxOutstanding = 1 << 18;
    private const uint KernelModeMaxStacks = 1 << 13;
    private const uint UnwindRows = 1 << 21;    // 16 MiB
    private const uint UnwindPages = 1 << 17;   // 1 MiB: 512 MiB of code

    /// <summary>Writes the configuration and sizes the maps of <paramref name="bpf"/> (opened, not loaded yet).</summary>
    public static void Apply(BpfObject bpf, AllocationTracerOptions options, uint tgid)
    {
        var config = new MemleakAbi.Config
        {
            MinSize = options.MinSize,
            MaxSize = options.MaxSize,
            TargetTgid = tgid,
            SampleRate = Math.Max(1, options.SampleRate),
            StreamEvents = options.StreamEvents ? (byte)1 : (byte)0,
            CaptureStacks = options.CaptureStacks ? (byte)1 : (byte)0,
            TrackOutstanding = options.TrackOutstanding ? (byte)1 : (byte)0,
            FollowChildren = options.FollowChildren && !options.Kernel ? (byte)1 : (byte)0,
            // Kernel mode would otherwise trace the kmallocs of its own map reads (a stack read per event).
            IgnoredTgid = options.Kernel ? (uint)Environment.ProcessId : 0,
            PageSize = (ulong)Environment.SystemPageSize,
        };
        bpf.WriteReadOnlyData(".rodata", config);
        uint outstanding = options.TrackOutstanding ? (uint)options.MaxOutstanding : 1u;
        uint stacks = options.CaptureStacks ? (uint)options.MaxStacks : 1u;
        if (options.Kernel)
        {
            // A map that allocates on insert would trace its own kmallocs (bpf_mem_refill) in kernel mode:
            // preallocate instead, and cap the sizes since preallocated entries cost kernel memory up front
            // (~90 bytes per outstanding allocation, ~1 KiB per stack).
            bpf.SetMapFlags("outstanding", 0);
            bpf.SetMapFlags("stacks", 0);
            if (outstanding > KernelModeMaxOutstanding)
            {
                options.Verbose?.Invoke($"Kernel mode preallocates its map: {KernelModeMaxOutstanding} outstanding allocations at most (asked {outstanding}); more are counted as map-full drops.");
                outstanding = KernelModeMaxOutstanding;
            }
            stacks = Math.Min(stacks, KernelModeMaxStacks);
        }
        bpf.SetMaxEntries("outstanding", outstanding);
        bpf.SetMaxEntries("stacks", stacks);
        bpf.SetMaxEntries("events", options.StreamEvents ? (uint)options.RingBufferBytes : 4096u);
        // Unwind tables (user stacks only): 8 bytes a row, written once per module; 2M rows hold libLLVM twice over.
        bool unwind = options.CaptureStacks && !options.Kernel;
        bpf.SetMaxEntries("unwind_rows", unwind ? UnwindRows : 1u);
        bpf.SetMaxEntries("unwind_pages", unwind ? UnwindPages : 1u);
    }
}
