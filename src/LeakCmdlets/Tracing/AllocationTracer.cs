using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Threading;
using LeakTools.Bpf;
using LeakTools.Interop;
using LeakTools.Procfs;

namespace LeakTools.Tracing;

/// <summary>
/// A tracing session: memleak.bpf.c (or the allocount floor probe) loaded, attached to the target's allocator
/// (or the kernel's tracepoints), read on demand. Start → Read* / TryTakeEvent → Dispose. Dispose detaches
/// and frees everything and is safe from any thread and any exit path; the target keeps running unchanged.
/// </summary>
public sealed unsafe class AllocationTracer : IDisposable
{
    private const uint KernelModeMaxOutstanding = 1 << 18;
    private const uint KernelModeMaxStacks = 1 << 13;
    /// <summary>How late a streamed event can reach <see cref="TryTakeEvent"/>: two flush periods of its stream.</summary>
    public const int EventDelayMs = 2 * EventStream.FlushPeriodMs;
    private const int BatchSize = 1 << 16;   // fewer syscalls; the keys, values and batch buffers are 5.2 MB

    private readonly AllocationTracerOptions _options;
    private readonly ProcessIdentity? _target;
    private readonly BpfObject _bpf;
    private readonly List<ProbeSite> _sites = new();
    private RingBufferReader? _ring;
    private EventStream? _stream;
    private BpfHashMap<ulong, MemleakAbi.AllocInfo>? _outstanding;
    private BpfHashMap<ulong, MemleakAbi.Stack>? _stacks;
    private BpfPerCpuArray? _counters;
    private StreamedBlockSizes? _streamedBlocks;
    private int _disposed;
    private readonly object _detachGate = new();

    public IReadOnlyList<ProbeSite> ProbeSites => _sites;

    public AllocationTracerOptions Options => _options;

    /// <summary>
    /// True once the user-space target is gone, a zombie, or its PID belongs to another process. Always false
    /// in kernel mode.
    /// </summary>
    public bool TargetExited => _target is { } target && !target.IsSameProcessAlive();

    private AllocationTracer(AllocationTracerOptions options, ProcessIdentity? target, BpfObject bpf)
    {
        _options = options;
        _target = target;
        _bpf = bpf;
    }

    /// <summary>Loads and attaches. Throws <see cref="TracerException"/> with a category and a remedy.</summary>
    public static AllocationTracer Start(AllocationTracerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        TracerPreflight.Check(options.Kernel, needsKernelSymbols: options.Kernel && options.CaptureStacks);
        if (!options.Kernel) TargetProcessCheck.ThrowIfUntraceable(options.ProcessId);
        ProcessIdentity? target = options.Kernel ? null : CaptureIdentity(options.ProcessId);

        List<(AllocatorProbe Probe, ProbeSite Site)>? plan = null;
        TargetLibrary? library = null;
        if (!options.Kernel)
        {
            library = TargetLibrary.Resolve(options.ProcessId, options.LibraryPath);
            options.Verbose?.Invoke($"Allocator library of process {options.ProcessId}: {library.MappedPath} (opened as {library.OpenPath}{(library.Mapped ? "" : ", not mapped yet")}).");
            plan = ProbePlan.Build(library, options.SymbolPrefix, options.ForceEntrySites, options.Verbose);
        }

        BpfObject bpf;
        try
        {
            bpf = BpfObject.OpenEmbedded(options.CountOnly ? "allocount" : "memleak");
        }
        catch (DllNotFoundException e)
        {
            throw new TracerException($"libbpf ({LibraryNames.LibbpfSoname}) cannot be loaded: {e.Message}",
                ErrorIds.LibbpfMissing, ErrorCategory.NotInstalled, LibraryNames.LibbpfSoname,
                "Install libbpf: sudo apt-get install libbpf1 (or set LEAKTOOLS_LIBBPF to a libbpf.so.1).", e);
        }
        catch (BpfOperationException e)
        {
            throw new TracerException(e.Message, ErrorIds.LoadFailed, ErrorCategory.OpenError, "memleak.bpf.o",
                "Rebuild the module with build.ps1.", e);
        }

        var tracer = new AllocationTracer(options, target, bpf);
        try
        {
            if (options.Kernel) tracer.StartKernel();
            else tracer.StartUser(library!, plan!);
            return tracer;
        }
        catch (BpfOperationException e) when (tracer.TargetExited)
        {
            tracer.Dispose();
            throw new TracerException($"Process {options.ProcessId} exited while the probes were being attached.",
                ErrorIds.TargetNotFound, ErrorCategory.ObjectNotFound, options.ProcessId, "Start the process again and trace it while it runs.", e);
        }
        catch (EntryPointNotFoundException e)
        {
            tracer.Dispose();
            throw new TracerException($"The installed libbpf lacks a function LeakTools needs: {e.Message}",
                ErrorIds.LibbpfMissing, ErrorCategory.NotInstalled, LibraryNames.LibbpfSoname,
                "Install libbpf 1.0 or newer: sudo apt-get install libbpf1 (or set LEAKTOOLS_LIBBPF to a newer libbpf.so.1).", e);
        }
        catch (BpfOperationException e)
        {
            tracer.Dispose();
            bool load = e.DuringLoad;
            throw new TracerException(
                e.KernelLog is null ? e.Message : $"{e.Message}{Environment.NewLine}{e.KernelLog}",
                load ? ErrorIds.LoadFailed : ErrorIds.AttachFailed,
                e.Errno is 1 or 13 ? ErrorCategory.PermissionDenied : ErrorCategory.InvalidOperation,
                options.Kernel ? "kernel" : options.ProcessId,
                e.Errno is 1 or 13 ? RefusedRemedy(options, load) : "Check that the target is still running and that the kernel supports the probes (see -Verbose).", e);
        }
        catch
        {
            tracer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The preflight found the capabilities, so a refusal comes from a kernel policy, or (attaching uprobes)
    /// from the same rules that guard the target's memory.
    /// </summary>
    private static string RefusedRemedy(AllocationTracerOptions options, bool load) => !load && !options.Kernel
        ? ProcessAccess.DeniedRemedy(options.ProcessId)
        : "This session has the capabilities tracing needs, so a kernel policy refuses: kernel lockdown, a security module "
          + "(SELinux, AppArmor, a BPF LSM) or a sandbox confining this session. The kernel log (dmesg) names it; run outside that confinement.";

    private static void Validate(AllocationTracerOptions o)
    {
        string? problem = null;
        if (!o.Kernel && o.ProcessId <= 0) problem = "ProcessId must name a running process (or set Kernel).";
        else if (o.Kernel && o.CountOnly) problem = "CountOnly applies to user-space allocators only.";
        else if (o.MaxOutstanding <= 0 || o.MaxStacks <= 0) problem = "MaxOutstanding and MaxStacks must be positive.";
        else if (o.MinSize > o.MaxSize) problem = $"MinSize ({o.MinSize}) is larger than MaxSize ({o.MaxSize}).";
        else if (!o.TrackOutstanding && !o.StreamEvents && !o.CountOnly) problem = "TrackOutstanding can be off only with StreamEvents on: nothing would be recorded.";
        else if (o.RingBufferBytes < 4096 || (o.RingBufferBytes & (o.RingBufferBytes - 1)) != 0) problem = "RingBufferBytes must be a power of two of at least 4096.";
        if (problem is not null)
            throw new TracerException(problem, ErrorIds.InvalidOptions, ErrorCategory.InvalidArgument, o, "Correct the tracer options.");
        if (o.SampleRate == 0) o.SampleRate = 1;
        if (!o.Kernel && !ProcessDirectory.Exists(o.ProcessId))
            throw new TracerException($"No process with id {o.ProcessId} is running.", ErrorIds.TargetNotFound,
                ErrorCategory.ObjectNotFound, o.ProcessId, "Check the process id (Get-Process).");
    }

    /// <summary>The target's identity, taken before attaching, so that its exit is noticed even once its PID is reused.</summary>
    private static ProcessIdentity CaptureIdentity(int pid)
    {
        // Start time 0, which no process has: gone since Validate, the target shows as exited at the first check;
        // with a stat we may not read, liveness falls back to the PID (an unreadable stat counts as alive).
        try { return ProcessIdentity.TryCapture(pid) ?? new ProcessIdentity(pid, 0); }
        catch (Exception e) when (e is UnauthorizedAccessException or ProcfsFormatException) { return new ProcessIdentity(pid, 0); }
    }

    private void StartUser(TargetLibrary library, List<(AllocatorProbe Probe, ProbeSite Site)> plan)
    {
        int pid = _options.ProcessId;
        bool multi = TracerPreflight.KernelHasUprobeMultiLinks();
        _options.Verbose?.Invoke(multi
            ? "Attaching through multi-uprobe links (BPF_TRACE_UPROBE_MULTI)."
            : "This kernel has no multi-uprobe links: attaching through perf-event uprobes (slower to detach).");
        void Attach(string program, ProbeSite site, bool returnProbe, ulong cookie = 0)
        {
            if (multi) _bpf.AttachUprobeMulti(program, pid, library.OpenPath, site.ChosenOffset, returnProbe, cookie);
            else _bpf.AttachUprobe(program, pid, library.OpenPath, site.ChosenOffset, returnProbe, cookie);
        }

        if (_options.CountOnly)
        {
            if (multi)
            {
                _bpf.SetExpectedAttachType(AllocatorProbe.CountEntryProgram, BpfObject.AttachTypeUprobeMulti);
                _bpf.SetExpectedAttachType(AllocatorProbe.CountReturnProgram, BpfObject.AttachTypeUprobeMulti);
            }
            _bpf.Load();
            foreach (var (probe, site) in plan)
            {
                Report(site);
                Attach(AllocatorProbe.CountEntryProgram, site, false, (ulong)probe.Function);
                if (probe.ReturnProgram is not null)
                    Attach(AllocatorProbe.CountReturnProgram, site, true, (ulong)probe.Function);
                _sites.Add(site);
            }
            return;
        }

        Configure((uint)pid);
        var planned = new HashSet<AllocatorFunction>();
        foreach (var (probe, _) in plan) planned.Add(probe.Function);
        foreach (AllocatorProbe probe in AllocatorProbe.UserSpace)
        {
            bool on = planned.Contains(probe.Function);
            _bpf.SetAutoload(probe.EntryProgram, on);
            if (probe.ReturnProgram is not null) _bpf.SetAutoload(probe.ReturnProgram, on);
            if (on && multi)
            {
                _bpf.SetExpectedAttachType(probe.EntryProgram, BpfObject.AttachTypeUprobeMulti);
                if (probe.ReturnProgram is not null) _bpf.SetExpectedAttachType(probe.ReturnProgram, BpfObject.AttachTypeUprobeMulti);
            }
        }
        foreach (var k in AllocatorProbe.Kernel) _bpf.SetAutoload(k.Program, false);
        _bpf.Load();

        foreach (var (probe, site) in plan)
        {
            Report(site);
            // Return probe first: an entry without its return would count a missed return.
            if (probe.ReturnProgram is not null) Attach(probe.ReturnProgram, site, true);
            Attach(probe.EntryProgram, site, false);
            _sites.Add(site);
        }
        StartEventPolling();
    }

    private void StartKernel()
    {
        Configure((uint)Math.Max(0, _options.ProcessId));
        foreach (AllocatorProbe probe in AllocatorProbe.UserSpace)
        {
            _bpf.SetAutoload(probe.EntryProgram, false);
            if (probe.ReturnProgram is not null) _bpf.SetAutoload(probe.ReturnProgram, false);
        }
        // A tp_btf program needs the tracepoint in the kernel's BTF; switch off the ones this kernel lacks.
        var available = new List<(AllocatorFunction Function, string Program, string Tracepoint)>();
        foreach (var k in AllocatorProbe.Kernel)
        {
            bool present = TracerPreflight.KernelHasTracepoint(k.Tracepoint);
            _bpf.SetAutoload(k.Program, present);
            if (present) available.Add(k);
            else _options.Verbose?.Invoke($"This kernel has no tracepoint {k.Tracepoint}: {k.Function} is not traced.");
        }
        if (available.Count == 0)
        {
            throw new TracerException("None of the kmem/percpu tracepoints is in this kernel's BTF.",
                ErrorIds.NoTracepoints, ErrorCategory.NotInstalled, "/sys/kernel/btf/vmlinux",
                "Use a kernel built with CONFIG_TRACEPOINTS and CONFIG_DEBUG_INFO_BTF.");
        }
        _bpf.Load();
        foreach (var k in available)
        {
            _bpf.Attach(k.Program);
            _options.Verbose?.Invoke($"Attached {k.Program} to tracepoint {k.Tracepoint}.");
        }
        StartEventPolling();
    }

    private void Configure(uint tgid)
    {
        var config = new MemleakAbi.Config
        {
            MinSize = _options.MinSize,
            MaxSize = _options.MaxSize,
            TargetTgid = tgid,
            SampleRate = Math.Max(1, _options.SampleRate),
            StreamEvents = _options.StreamEvents ? (byte)1 : (byte)0,
            CaptureStacks = _options.CaptureStacks ? (byte)1 : (byte)0,
            TrackOutstanding = _options.TrackOutstanding ? (byte)1 : (byte)0,
            // Kernel mode would otherwise trace the kmallocs of its own map reads (a stack read per event).
            IgnoredTgid = _options.Kernel ? (uint)Environment.ProcessId : 0,
            PageSize = (ulong)Environment.SystemPageSize,
        };
        _bpf.WriteReadOnlyData(".rodata", config);
        uint outstanding = _options.TrackOutstanding ? (uint)_options.MaxOutstanding : 1u;
        uint stacks = _options.CaptureStacks ? (uint)_options.MaxStacks : 1u;
        if (_options.Kernel)
        {
            // A map that allocates on insert would trace its own kmallocs (bpf_mem_refill) in kernel mode:
            // preallocate instead, and cap the sizes since preallocated entries cost kernel memory up front
            // (~90 bytes per outstanding allocation, ~1 KiB per stack).
            _bpf.SetMapFlags("outstanding", 0);
            _bpf.SetMapFlags("stacks", 0);
            if (outstanding > KernelModeMaxOutstanding)
            {
                _options.Verbose?.Invoke($"Kernel mode preallocates its map: {KernelModeMaxOutstanding} outstanding allocations at most (asked {outstanding}); more are counted as map-full drops.");
                outstanding = KernelModeMaxOutstanding;
            }
            stacks = Math.Min(stacks, KernelModeMaxStacks);
        }
        _bpf.SetMaxEntries("outstanding", outstanding);
        _bpf.SetMaxEntries("stacks", stacks);
        _bpf.SetMaxEntries("events", _options.StreamEvents ? (uint)_options.RingBufferBytes : 4096u);
    }

    private void Report(ProbeSite site)
        => _options.Verbose?.Invoke($"Probe {site.Symbol}: entry 0x{site.EntryOffset:x} '{site.EntryInstruction}', chosen 0x{site.ChosenOffset:x} (+0x{site.Displacement:x}) '{site.ChosenInstruction}' — {site.Reason}.");

    // ------------------------------------------------------------------ events

    private void StartEventPolling()
    {
        if (!_options.StreamEvents || _options.CountOnly) return;
        _ring = _bpf.MapRingBuffer("events", (uint)_options.RingBufferBytes);
        _stream = new EventStream(_bpf, _ring, BpfObject.PossibleCpus());
        _stream.Probe();
        if (!_options.TrackOutstanding) _streamedBlocks = new StreamedBlockSizes(_options.MaxOutstanding);
    }

    /// <summary>
    /// Takes the next streamed call, in timestamp order; false after <paramref name="timeoutMs"/> without one (or
    /// when not streaming). Reads the ring on the calling thread, so a consumer that falls behind leaves the ring
    /// full and the BPF side drops (and counts) what does not fit. One consuming thread at a time.
    /// </summary>
    public bool TryTakeEvent(out AllocationRecord record, int timeoutMs)
    {
        record = default;
        if (_stream is null || !_stream.TryTake(out var e, timeoutMs)) return false;
        record = new AllocationRecord(e.TimestampNs, e.Pid, e.Tid, (AllocatorFunction)e.Function,
            StripKeyTag(e.Address), e.Size, e.StackKey, e.Caller, e.PreviousAddress);
        if (_streamedBlocks is not null) record = _streamedBlocks.Apply(record);
        return true;
    }

    // ------------------------------------------------------------------ reading maps

    /// <summary>All allocations not freed yet, read with batched lookups (about 40 bytes each).</summary>
    public IReadOnlyList<OutstandingAllocation> ReadOutstanding()
    {
        var result = new List<OutstandingAllocation>();
        ReadOutstanding(batch => result.AddRange(batch));
        return result;
    }

    /// <summary>
    /// All allocations not freed yet, handed over one batch at a time (at most 65,536), so a caller that
    /// aggregates them never holds a copy of the whole map.
    /// </summary>
    public void ReadOutstanding(OutstandingBatchHandler onBatch)
    {
        ArgumentNullException.ThrowIfNull(onBatch);
        ThrowIfDisposed();
        if (_options.CountOnly) return;
        _outstanding ??= _bpf.HashMap<ulong, MemleakAbi.AllocInfo>("outstanding");
        var batch = GC.AllocateUninitializedArray<OutstandingAllocation>(BatchSize);
        _outstanding.ReadAll(BatchSize, (keys, values) =>
        {
            for (int i = 0; i < keys.Length; i++)
            {
                ref readonly MemleakAbi.AllocInfo info = ref values[i];
                batch[i] = new OutstandingAllocation(StripKeyTag(keys[i]), info.Size, info.TimestampNs, info.StackKey, info.Caller, info.Tid);
            }
            onBatch(batch.AsSpan(0, keys.Length));
        });
    }

    /// <summary>The user stack of an allocation: its direct caller first (see <see cref="StackCapture"/>).</summary>
    public ulong[] ReadUserStack(OutstandingAllocation allocation)
    {
        ThrowIfDisposed();
        MemleakAbi.Stack stored;
        return StackCapture.Frames(allocation.CallerAddress, TryReadStack(allocation.StackKey, &stored) ? StoredFrames(&stored) : default);
    }

    /// <summary>The user stack of a streamed event (same rules as for an outstanding allocation).</summary>
    public ulong[] ReadUserStack(AllocationRecord record)
        => ReadUserStack(new OutstandingAllocation(record.Address, record.Size, record.TimestampNs, record.StackKey, record.CallerAddress, record.ThreadId));

    /// <summary>Kernel-mode stack by key (empty when the key is 0 or gone).</summary>
    public ulong[] ReadKernelStack(ulong stackKey)
    {
        ThrowIfDisposed();
        MemleakAbi.Stack stored;
        return TryReadStack(stackKey, &stored) ? StoredFrames(&stored).ToArray() : Array.Empty<ulong>();
    }

    private bool TryReadStack(ulong stackKey, MemleakAbi.Stack* stored)
    {
        if (stackKey == 0 || _options.CountOnly || !_options.CaptureStacks) return false;
        _stacks ??= _bpf.HashMap<ulong, MemleakAbi.Stack>("stacks");
        return _stacks.TryLookup(stackKey, out *stored);
    }

    private static ReadOnlySpan<ulong> StoredFrames(MemleakAbi.Stack* stored)
        => new(stored->Frames, (int)Math.Min(stored->Depth, (uint)MemleakAbi.MaxStackDepth));

    public TracerStatistics ReadStatistics()
    {
        ThrowIfDisposed();
        var stats = new TracerStatistics();
        if (_options.CountOnly)
        {
            ulong[] counts = Counters().SumOverCpus(MemleakAbi.AllocountSlots);
            for (int fn = 0; fn < MemleakAbi.FunctionCount; fn++)
            {
                if (counts[fn * 2] != 0) stats.Hits[(AllocatorFunction)fn] = counts[fn * 2];
                if (counts[fn * 2 + 1] != 0) stats.ReturnHits[(AllocatorFunction)fn] = counts[fn * 2 + 1];
                stats.TotalHits += counts[fn * 2];
            }
            return stats;
        }
        return TracerStatistics.FromCounters(Counters().SumOverCpus(MemleakAbi.StatCount), (ulong)(_ring?.MismatchedRecords ?? 0));
    }

    /// <summary>The per-CPU counters: the floor probe's "counts" in CountOnly mode, memleak's "stats" otherwise.</summary>
    private BpfPerCpuArray Counters() => _counters ??= _bpf.PerCpuCounters(_options.CountOnly ? "counts" : "stats");

    /// <summary>Kernel mode keeps per-CPU chunks in their own key space; the tag is not part of the address.</summary>
    private ulong StripKeyTag(ulong key)
    {
        if (_options.Kernel && key >> MemleakAbi.KeyTagShift == MemleakAbi.KeyTagPercpu)
            return key & ((1UL << MemleakAbi.KeyTagShift) - 1);
        return key;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>
    /// Detaches all probes but keeps the maps and the ring: what was recorded can still be read, and
    /// <see cref="TryTakeEvent"/> still delivers what is buffered. Idempotent; Dispose frees the rest.
    /// </summary>
    public void DetachProbes()
    {
        lock (_detachGate)
        {
            if (Volatile.Read(ref _disposed) == 0) _bpf.DetachAll();
        }
    }

    /// <summary>Detaches all probes, then frees the ring buffer mapping, maps and programs. Idempotent, any thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stream?.Stop();
        try
        {
            lock (_detachGate) _bpf.DetachAll();   // first: the target runs unprobed from here on
        }
        finally
        {
            _ring?.Dispose();   // unmapped once a read in progress on another thread ends
            _bpf.Dispose();
        }
    }
}
