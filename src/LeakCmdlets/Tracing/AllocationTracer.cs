using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using LeakTools.Bpf;
using LeakTools.Interop;
using LeakTools.Model;
using LeakTools.Procfs;
using LeakTools.Stacks;
using LeakTools.Targets;

namespace LeakTools.Tracing;

/// <summary>
/// A tracing session: memleak.bpf.c (or the allocount floor probe) loaded, attached to the target's allocator
/// (or the kernel's tracepoints), read on demand. Start → Read* / TryTakeEvent → Dispose. Dispose detaches
/// and frees everything and is safe from any thread and any exit path; the target keeps running unchanged.
/// The work is done by its parts: <see cref="UprobeAttacher"/> or <see cref="KernelTracepoints"/> attach,
/// <see cref="StreamedCalls"/> streams, <see cref="OutstandingMapReader"/>, <see cref="StackReader"/> and
/// <see cref="TracerStatisticsReader"/> read the maps.
/// </summary>
public sealed class AllocationTracer : IDisposable
{
    /// <summary>How late a streamed event can reach <see cref="TryTakeEvent"/>: two flush periods of its stream.</summary>
    public const int EventDelayMs = 2 * EventStream.FlushPeriodMs;

    private readonly AllocationTracerOptions _options;
    private readonly ProcessIdentity? _target;
    private readonly BpfObject _bpf;
    private readonly List<ProbeSite> _sites = new();
    private StreamedCalls? _calls;
    private OutstandingMapReader? _outstanding;
    private TracerStatisticsReader? _statistics;
    private ProcessEventReader? _processEvents;
    private InheritedUprobes? _inheritedUprobes;
    private int _disposed;
    private readonly object _detachGate = new();

    public IReadOnlyList<ProbeSite> ProbeSites => _sites;

    /// <summary>The probed allocator library as the target maps it, and its inode (0 when unknown); null in kernel mode.</summary>
    public (string Path, ulong Inode)? Library { get; private set; }

    public AllocationTracerOptions Options => _options;

    /// <summary>The stacks the BPF side kept, by key (plus the direct caller).</summary>
    public StackReader Stacks { get; }

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
        Stacks = new StackReader(bpf, enabled: options.CaptureStacks && !options.CountOnly, kernel: options.Kernel, ThrowIfDisposed);
    }

    /// <summary>Loads and attaches. Throws <see cref="TracerException"/> with a category and a remedy.</summary>
    public static AllocationTracer Start(AllocationTracerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!options.Kernel) TargetProcessCheck.ThrowIfNotRunning(options.ProcessId);
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
            tracer.Attach(library, plan);
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
            bool refused = (Errno)e.Errno is Errno.EPERM or Errno.EACCES;
            throw new TracerException(
                e.KernelLog is null ? e.Message : $"{e.Message}{Environment.NewLine}{e.KernelLog}",
                load ? ErrorIds.LoadFailed : ErrorIds.AttachFailed,
                refused ? ErrorCategory.PermissionDenied : ErrorCategory.InvalidOperation,
                options.Kernel ? "kernel" : options.ProcessId,
                refused ? RefusedRemedy(options, load) : "Check that the target is still running and that the kernel supports the probes (see -Verbose).", e);
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

    /// <summary>The target's identity, taken before attaching, so that its exit is noticed even once its PID is reused.</summary>
    private static ProcessIdentity CaptureIdentity(int pid)
    {
        // Start time 0, which no process has: gone since Validate, the target shows as exited at the first check;
        // with a stat we may not read, liveness falls back to the PID (an unreadable stat counts as alive).
        try { return ProcessIdentity.TryCapture(pid) ?? new ProcessIdentity(pid, 0); }
        catch (Exception e) when (e is UnauthorizedAccessException or ProcfsFormatException) { return new ProcessIdentity(pid, 0); }
    }

    /// <summary>Configures, loads and attaches the programs, then opens the event stream when asked.</summary>
    private void Attach(TargetLibrary? library, List<(AllocatorProbe Probe, ProbeSite Site)>? plan)
    {
        if (_options.Kernel)
        {
            MemleakSettings.Apply(_bpf, _options, (uint)Math.Max(0, _options.ProcessId));
            KernelTracepoints.LoadAndAttach(_bpf, _options);
        }
        else
        {
            Library = (library!.MappedPath, FileIdentity.TryGetInode(library.OpenPath, out ulong inode) ? inode : 0);
            var attacher = new UprobeAttacher(_bpf, _options, library!);
            if (_options.CountOnly)
            {
                attacher.AttachCounters(plan!, _sites);
                return;
            }
            MemleakSettings.Apply(_bpf, _options, (uint)_options.ProcessId);
            try
            {
                attacher.AttachMemleak(plan!, _sites);
            }
            finally
            {
                _inheritedUprobes = attacher.Inherited;   // removed in Dispose, also after a failed attach
            }
            _processEvents = new ProcessEventReader(_bpf);
        }
        if (_options.StreamEvents) _calls = new StreamedCalls(_bpf, _options);
    }

    /// <summary>
    /// Takes the next streamed call, in timestamp order; false after <paramref name="timeoutMs"/> without one (or
    /// when not streaming). Reads the ring on the calling thread, so a consumer that falls behind leaves the ring
    /// full and the BPF side drops (and counts) what does not fit. One consuming thread at a time.
    /// </summary>
    public bool TryTakeEvent(out AllocationRecord record, int timeoutMs)
    {
        record = default;
        return _calls is not null && _calls.TryTake(out record, timeoutMs);
    }

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
        (_outstanding ??= new OutstandingMapReader(_bpf, _options.Kernel)).ReadAll(onBatch);
    }

    /// <summary>
    /// The forks, execs and exits of traced processes (and the forks not followed) since the last call, oldest
    /// first, appended to <paramref name="into"/>. Nothing in kernel mode or for the floor probe.
    /// </summary>
    public void ReadProcessEvents(List<ProcessEvent> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ThrowIfDisposed();
        _processEvents?.ReadAll(into);
    }

    /// <summary>
    /// Forgets the outstanding blocks of process images that exec replaced (they died with their address space);
    /// returns per image how many there were and their bytes.
    /// </summary>
    public IReadOnlyDictionary<uint, (long Count, ulong Bytes)> DropImages(IReadOnlySet<uint> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        ThrowIfDisposed();
        if (_options.CountOnly || !_options.TrackOutstanding || images.Count == 0) return new Dictionary<uint, (long, ulong)>();
        return (_outstanding ??= new OutstandingMapReader(_bpf, _options.Kernel)).Drop(images);
    }

    public TracerStatistics ReadStatistics()
    {
        ThrowIfDisposed();
        return Statistics().Read();
    }

    /// <summary>The counters rolled up into what the cmdlets warn about.</summary>
    public TraceLoss ReadLoss()
    {
        ThrowIfDisposed();
        return Statistics().ReadLoss();
    }

    private TracerStatisticsReader Statistics() => _statistics ??= new TracerStatisticsReader(_bpf, _options.CountOnly, _calls);

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
        _calls?.Stop();
        try
        {
            lock (_detachGate) _bpf.DetachAll();   // first: the target runs unprobed from here on
        }
        finally
        {
            _calls?.Dispose();   // the ring is unmapped once a read in progress on another thread ends
            _processEvents?.Dispose();
            _inheritedUprobes?.Dispose();   // after the links: an event in use cannot be removed
            _bpf.Dispose();
        }
    }
}
