using System;

namespace LeakTools.Tracing;

/// <summary>What <see cref="AllocationTracer.Start"/> traces and how.</summary>
public sealed class AllocationTracerOptions
{
    /// <summary>Target process (tgid); 0 with <see cref="Kernel"/> traces the whole kernel.</summary>
    public int ProcessId { get; set; }
    /// <summary>Trace kernel allocations (kmem/percpu tracepoints) instead of a process's allocator.</summary>
    public bool Kernel { get; set; }
    /// <summary>Allocator library: a path or soname as mapped by the target; null = the target's libc.</summary>
    public string? LibraryPath { get; set; }
    /// <summary>Prefix of the allocator's symbols, e.g. "je_" for a prefixed jemalloc build.</summary>
    public string? SymbolPrefix { get; set; }
    /// <summary>Stream one <see cref="AllocationRecord"/> per call through a ring buffer (<see cref="AllocationTracer.TryTakeEvent"/>).</summary>
    public bool StreamEvents { get; set; }
    public bool CaptureStacks { get; set; } = true;
    /// <summary>
    /// Keep the outstanding-allocation map (what Find-MemoryLeak reads). A pure stream can do without it: its frees
    /// then learn their size from the streamed allocations (<see cref="AllocationTracer.TryTakeEvent"/>).
    /// </summary>
    public bool TrackOutstanding { get; set; } = true;
    public ulong MinSize { get; set; }
    public ulong MaxSize { get; set; } = ulong.MaxValue;
    /// <summary>Record 1 in N allocations (frees are always processed).</summary>
    public uint SampleRate { get; set; } = 1;
    /// <summary>Capacity of the outstanding-allocation map.</summary>
    public int MaxOutstanding { get; set; } = 1 << 20;
    /// <summary>Capacity of the stack map.</summary>
    public int MaxStacks { get; set; } = 1 << 15;
    /// <summary>Kernel ring buffer size in bytes (power of two, page multiple).</summary>
    public int RingBufferBytes { get; set; } = 1 << 22;
    /// <summary>Attach the minimal counting probe (the benchmark floor) at the same sites instead of the tracer.</summary>
    public bool CountOnly { get; set; }
    /// <summary>Probe each function's first instruction instead of the chosen site (shows what site choice gains).</summary>
    public bool ForceEntrySites { get; set; }
    /// <summary>Receives probe-site choices and other details (cmdlets pass WriteVerbose through a queue).</summary>
    public Action<string>? Verbose { get; set; }
}
