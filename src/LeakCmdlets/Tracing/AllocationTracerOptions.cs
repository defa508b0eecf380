using System;
using System.Management.Automation;

namespace LeakTools.Tracing;

/// <summary>What <see cref="AllocationTracer.Start"/> traces and how.</summary>
public sealed class AllocationTracerOptions
{
    /// <summary>Target process (tgid); 0 with <see cref="Kernel"/> traces the whole kernel.</summary>
    public int ProcessId { get; set; }
    /// <summary>Trace kernel allocations (kmem/percpu tracepoints) instead of a process's allocator.</summary>
    public bool Kernel { get; set; }
    /// <summary>Allocator library: a path or soname as mapped by the target; null = the allocator its calls bind to (see AllocatorResolver).</summary>
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
    /// <summary>
    /// The low-overhead mode: allocations are recorded one second in every this many, the probes attached only then
    /// and a second after (<see cref="SampledProbes"/>; the caller drives it with <see cref="AllocationTracer.AdvanceSampling"/>).
    /// 0 or 1 = all the time. User space only.
    /// </summary>
    public uint DutyCycleRate { get; set; }
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
    /// <summary>
    /// Trace the children the target forks from here on (and theirs), from their first instruction, through their
    /// execs. The probes are then attached to every process that maps the allocator library and filtered in BPF by
    /// the traced processes; without it, to the target alone (its forks are only counted).
    /// </summary>
    public bool FollowChildren { get; set; }
    /// <summary>
    /// -Command: the launched program's entry point, where a one-shot probe stops it (SIGSTOP) so that the unwind
    /// tables of its image and initial libraries are in before its first allocation. Null: no such stop.
    /// </summary>
    internal Targets.ProgramEntry? StopAtEntry { get; set; }
    /// <summary>
    /// For measurements: the verifier records each program's statistics while loading (see
    /// <see cref="AllocationTracer.ProgramStatistics"/>).
    /// </summary>
    public bool RecordVerifierStatistics { get; set; }
    /// <summary>Receives probe-site choices and other details (cmdlets pass WriteVerbose through a queue).</summary>
    public Action<string>? Verbose { get; set; }

    /// <summary>
    /// Throws <see cref="TracerException"/> (InvalidArgument) when the options contradict each other or are out of
    /// range; a SampleRate of 0 means 1.
    /// </summary>
    internal void Validate()
    {
        string? problem = null;
        if (!Kernel && ProcessId <= 0) problem = "ProcessId must name a running process (or set Kernel).";
        else if (Kernel && CountOnly) problem = "CountOnly applies to user-space allocators only.";
        else if (MaxOutstanding <= 0 || MaxStacks <= 0) problem = "MaxOutstanding and MaxStacks must be positive.";
        else if (MinSize > MaxSize) problem = $"MinSize ({MinSize}) is larger than MaxSize ({MaxSize}).";
        else if (!TrackOutstanding && !StreamEvents && !CountOnly) problem = "TrackOutstanding can be off only with StreamEvents on: nothing would be recorded.";
        else if (DutyCycleRate > 1 && (Kernel || CountOnly || StreamEvents)) problem = "DutyCycleRate applies to Find-MemoryLeak's user-space tracing only (no Kernel, CountOnly or StreamEvents).";
        else if (RingBufferBytes < 4096 || (RingBufferBytes & (RingBufferBytes - 1)) != 0) problem = "RingBufferBytes must be a power of two of at least 4096.";
        if (problem is not null)
            throw new TracerException(problem, ErrorIds.InvalidOptions, ErrorCategory.InvalidArgument, this, "Correct the tracer options.");
        if (SampleRate == 0) SampleRate = 1;
    }
}
