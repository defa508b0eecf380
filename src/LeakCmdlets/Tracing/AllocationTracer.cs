using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using LeakTools.Bpf;
using LeakTools.Interop;
using LeakTools.Model;
using LeakTools.Procfs;
using LeakTools.Stacks;
using LeakTools.Symbols;
using LeakTools.Targets;
using LeakTools.Unwinding;

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
    private SampledProbes? _sampled;
    private UprobeAttacher? _attacher;   // null for the kernel's tracepoints
    private int _disposed;
    private readonly object _detachGate = new();

    public IReadOnlyList<ProbeSite> ProbeSites => _sites;

    /// <summary>By function: the name its events carry (the table's, or its probe site's when aliases share the code).</summary>
    private readonly string[] _functionNames = AllocatorProbe.All.Select(p => p.DisplayName).ToArray();

    /// <summary>The probed allocator library as the target maps it, and its inode (0 when unknown); null in kernel mode.</summary>
    public (string Path, ulong Inode)? Library { get; private init; }

    public AllocationTracerOptions Options => _options;

    /// <summary>
    /// The name of <paramref name="function"/> as events show it: "malloc", "operator new", or for functions that
    /// share their code with another traced name both names ("aligned_alloc/memalign" in glibc 2.36).
    /// </summary>
    public string NameOf(AllocatorFunction function)
        => (uint)function < (uint)_functionNames.Length ? _functionNames[(int)function] : AllocatorProbe.NameOf(function);

    /// <summary>The file name of the allocator the probes are on (e.g. libc.so.6, libjemalloc.so.2); null in kernel mode.</summary>
    public string? AllocatorName { get; private init; }

    /// <summary>
    /// The unwind tables of the target's modules, which capture_user_stack walks; null in kernel mode and when no
    /// stacks are captured. Its owner calls Refresh when the target's modules change.
    /// </summary>
    internal UnwindTableLoader? UnwindTables { get; private set; }

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
        TargetAllocator? allocator = null;
        if (!options.Kernel)
        {
            allocator = AllocatorResolver.Resolve(options.ProcessId, options.LibraryPath, options.SymbolPrefix, options.Verbose);
            plan = ProbePlan.Build(allocator, options.SymbolPrefix, options.ForceEntrySites, options.Verbose);
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

        var tracer = new AllocationTracer(options, target, bpf)
        {
            AllocatorName = allocator?.Name,
            // A process of the tree that execs an image without this file is no longer traced (TracedTarget warns).
            Library = allocator is null ? null
                : (allocator.Library.MappedPath, FileIdentity.TryGetInode(allocator.Library.OpenPath, out ulong inode) ? inode : 0),
        };
        try
        {
            tracer.Attach(plan);
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
    private void Attach(List<(AllocatorProbe Probe, ProbeSite Site)>? plan)
    {
        if (_options.RecordVerifierStatistics) _bpf.RecordVerifierStatistics();
        if (_options.Kernel)
        {
            MemleakSettings.Apply(_bpf, _options, (uint)Math.Max(0, _options.ProcessId));
            KernelTracepoints.LoadAndAttach(_bpf, _options);
        }
        else
        {
            var attacher = _attacher = new UprobeAttacher(_bpf, _options);
            if (_options.CountOnly)
            {
                attacher.AttachCounters(plan!, _sites);
                return;
            }
            MemleakSettings.Apply(_bpf, _options, (uint)_options.ProcessId);
            try
            {
                // The tables go in before the first probe: no recorded allocation is walked without them.
                attacher.AttachMemleak(plan!, _sites, loaded: _options.CaptureStacks ? LoadUnwindTables : null);
            }
            finally
            {
                _inheritedUprobes = attacher.Inherited;   // removed in Dispose, also after a failed attach
            }
            _processEvents = new ProcessEventReader(_bpf);
            if (_options.DutyCycleRate > 1) _sampled = new SampledProbes(_bpf, attacher, plan!, _options.DutyCycleRate, _options.Verbose);
        }
        if (_options.StreamEvents) _calls = new StreamedCalls(_bpf, _options);
        foreach (ProbeSite site in _sites) _functionNames[(int)site.Function] = site.Name;
    }

    /// <summary>
    /// Each loaded program's instructions processed by the verifier and size, and its verification time when
    /// <see cref="AllocationTracerOptions.RecordVerifierStatistics"/> was set (for measurements).
    /// </summary>
    public IReadOnlyList<Bpf.BpfProgramStatistics> ProgramStatistics() => _bpf.ProgramStatistics();

    /// <summary>
    /// Disarms the one-shot stop at the launched program's entry (<see cref="AllocationTracerOptions.StopAtEntry"/>):
    /// once the caller has stopped waiting for it, a late pass through the entry must not stop the target.
    /// </summary>
    internal void DisarmEntryStop()
    {
        if (_options.StopAtEntry is not null) _bpf.HashMap<uint, uint>("entry_stop").Update(0, 1);
    }

    private void LoadUnwindTables()
    {
        UnwindTables = new UnwindTableLoader(_bpf, _options.ProcessId, new SymbolizerOptions().DebugDirectories, _options.Verbose);
        UnwindTables.Refresh();
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

    /// <summary>About how many allocations are outstanding (recorded minus freed, from the counters): a capacity hint.</summary>
    public int OutstandingCountHint()
    {
        if (_options.CountOnly) return 0;
        var statistics = ReadStatistics();
        ulong live = statistics.Allocations - Math.Min(statistics.Allocations, statistics.Frees);
        return (int)Math.Min(live, 1UL << 26);
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

    /// <summary>A sample of the allocations not freed yet: the first of the map, up to <paramref name="count"/>, in one batch.</summary>
    public void ReadSomeOutstanding(int count, OutstandingBatchHandler onBatch)
    {
        ArgumentNullException.ThrowIfNull(onBatch);
        ThrowIfDisposed();
        if (_options.CountOnly) return;
        (_outstanding ??= new OutstandingMapReader(_bpf, _options.Kernel)).ReadFirst(count, onBatch);
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
    /// With <see cref="AllocationTracerOptions.DutyCycleRate"/>: attaches or detaches the probes when the sampling
    /// cycle moves on (see <see cref="SampledProbes"/>); nothing otherwise. Call it every few hundred milliseconds from
    /// the thread that reads the tracer. A target that has exited ends the sampling quietly; a probe the kernel refuses
    /// ends it with a <see cref="TracerException"/> (what was recorded can still be read).
    /// </summary>
    public void AdvanceSampling()
    {
        if (_sampled is null) return;
        lock (_detachGate)
        {
            if (Volatile.Read(ref _disposed) != 0) return;
            try
            {
                _sampled.Advance();
            }
            catch (BpfOperationException e)
            {
                _sampled = null;
                DetachAllProbes();
                if (TargetExited) return;
                throw new TracerException($"Sampling stopped: the next window's probes could not be attached: {e.Message}",
                    ErrorIds.AttachFailed, ErrorCategory.InvalidOperation, _options.ProcessId,
                    "Check that the target still runs and maps its allocator; trace it again, or without -SampleRate.", e);
            }
        }
    }

    /// <summary>
    /// Detaches all probes but keeps the maps and the ring: what was recorded can still be read, and
    /// <see cref="TryTakeEvent"/> still delivers what is buffered. Idempotent; Dispose frees the rest.
    /// </summary>
    public void DetachProbes()
    {
        lock (_detachGate)
        {
            if (Volatile.Read(ref _disposed) == 0) DetachAllProbes();
        }
    }

    private void DetachAllProbes()
    {
        if (_attacher is not null) _attacher.DetachAll();
        else _bpf.DetachAll();
    }

    /// <summary>Detaches all probes, then frees the ring buffer mapping, maps and programs. Idempotent, any thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _calls?.Stop();
        try
        {
            lock (_detachGate) DetachAllProbes();   // first: the target runs unprobed from here on
        }
        finally
        {
            _calls?.Dispose();   // the ring is unmapped once a read in progress on another thread ends
            UnwindTables?.Dispose();
            _processEvents?.Dispose();
            _inheritedUprobes?.Dispose();   // after the links: an event in use cannot be removed
            _bpf.Dispose();
        }
    }
}
