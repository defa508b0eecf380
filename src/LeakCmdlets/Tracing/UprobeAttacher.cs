using System;
using System.Collections.Generic;
using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>
/// Loads the user-space programs of a probe plan and attaches them to the target's allocator library, through
/// multi-uprobe links where the kernel has them (fast to detach), through perf-event uprobes otherwise.
/// </summary>
internal sealed class UprobeAttacher
{
    private readonly BpfObject _bpf;
    private readonly AllocationTracerOptions _options;
    private readonly bool _multi;

    /// <summary>Set to 1: following children attaches per inode, not through inherited uprobe events.</summary>
    public const string PerInodeVariable = "LEAKTOOLS_PER_INODE_UPROBES";

    /// <summary>memleak's one-shot probe at a launched program's entry point (<see cref="AllocationTracerOptions.StopAtEntry"/>).</summary>
    public const string EntryStopProgram = "memleak__stop_at_entry";

    public UprobeAttacher(BpfObject bpf, AllocationTracerOptions options)
    {
        _bpf = bpf;
        _options = options;
        _multi = TracerPreflight.KernelHasUprobeMultiLinks();
        if (!options.FollowChildren || options.CountOnly)
        {
            options.Verbose?.Invoke(_multi
                ? "Attaching through multi-uprobe links (BPF_TRACE_UPROBE_MULTI)."
                : "This kernel has no multi-uprobe links: attaching through perf-event uprobes (slower to detach).");
        }
    }

    /// <summary>The allocount floor probe: one counting program pair at every planned site, the function as the cookie.</summary>
    public void AttachCounters(List<(AllocatorProbe Probe, ProbeSite Site)> plan, List<ProbeSite> attached)
    {
        if (_multi)
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
            attached.Add(site);
        }
    }

    /// <summary>memleak's programs of the planned functions (the others and the kernel's are not loaded), then their probes.</summary>
    /// <param name="loaded">Runs once the object is loaded, before the first probe attaches (the unwind tables go in there).</param>
    public void AttachMemleak(List<(AllocatorProbe Probe, ProbeSite Site)> plan, List<ProbeSite> attached, Action? loaded = null)
    {
        // Following children: through inherited perf-event uprobes when tracefs allows (loaded as plain uprobe programs then).
        // LEAKTOOLS_PER_INODE_UPROBES=1 attaches per inode instead (scripts/Measure-ProcessTreeCost.ps1 compares the two).
        if (_options.FollowChildren && Environment.GetEnvironmentVariable(PerInodeVariable) != "1") Inherited = InheritedUprobes.TryCreate();
        bool multi = _multi && Inherited is null;
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
        ProcessTreeProbes.SetAutoload(_bpf, true);
        _bpf.SetAutoload(EntryStopProgram, _options.StopAtEntry is not null);
        if (_options.StopAtEntry is not null && _multi) _bpf.SetExpectedAttachType(EntryStopProgram, BpfObject.AttachTypeUprobeMulti);
        _bpf.Load();
        loaded?.Invoke();
        ProcessTreeProbes.SeedAndAttach(_bpf, _options.ProcessId);
        // Before the allocator probes: a sampled trace detaches and reattaches only the links that follow them.
        if (_options.StopAtEntry is { } entry)
        {
            if (_multi) _bpf.AttachUprobeMulti(EntryStopProgram, _options.ProcessId, entry.Path, entry.FileOffset, returnProbe: false);
            else _bpf.AttachUprobe(EntryStopProgram, _options.ProcessId, entry.Path, entry.FileOffset, returnProbe: false);
        }
        if (_options.FollowChildren)
        {
            _options.Verbose?.Invoke(Inherited is not null
                ? $"Following the children of process {_options.ProcessId}: its probes are uprobe events of {Inherited.Tracefs} opened as perf events it passes on to every child it forks."
                : $"Following the children of process {_options.ProcessId}: no tracefs with uprobe events is mounted, so the probes go on every process that maps the allocator's library (each of them pays a trap per allocator call; see docs/engine.md), and the programs record only the traced ones.");
        }

        foreach (var (_, site) in plan) Report(site);
        // The process-tree tracepoints were attached above: a sampled trace detaches and reattaches only what follows.
        FirstProbeLink = _bpf.AttachedLinks;
        AttachMemleakProbes(plan, generation: 0, _ => true);
        foreach (var (_, site) in plan) attached.Add(site);
    }

    /// <summary>
    /// Attaches memleak's loaded programs again at the planned sites of the functions <paramref name="include"/>
    /// picks, with <paramref name="generation"/> as their cookie (a sampled trace's window; see
    /// <see cref="SampledProbes"/>).
    /// </summary>
    public void AttachMemleakProbes(List<(AllocatorProbe Probe, ProbeSite Site)> plan, uint generation, System.Func<AllocatorProbe, bool> include)
    {
        // The functions that release blocks first: a block recorded before its free's probe is in could die unseen.
        foreach (bool releases in new[] { true, false })
        {
            if (!releases) _firstAllocatingLink = _bpf.AttachedLinks;
            foreach (var (probe, site) in plan)
            {
                if (SampledProbes.ReleasesBlocks(probe) != releases || !include(probe)) continue;
                // The cookie: the window in its lower half, where the site finds the arguments in its upper (site_arg).
                ulong cookie = generation | (ulong)site.ArgumentMoves << 32;
                // Return probe first: an entry without its return would count a missed return.
                if (probe.ReturnProgram is not null) Attach(probe.ReturnProgram, site, true, cookie);
                Attach(probe.EntryProgram, site, false, cookie);
            }
        }
    }

    /// <summary>
    /// Following children: the tracefs uprobe events the probes are attached through (to be removed once the links are
    /// gone), or null when they are attached per inode or per pid.
    /// </summary>
    public InheritedUprobes? Inherited { get; private set; }

    /// <summary>The first of the BPF object's links that is an allocator probe (the links before it are tracepoints).</summary>
    public int FirstProbeLink { get; private set; }

    // Where the last AttachMemleakProbes began on the functions that only allocate (those after it). A sampled trace's
    // frees-only window drops the links before it, so this may point past the end: then none allocates.
    private int _firstAllocatingLink = int.MaxValue;

    /// <summary>
    /// Detaches every probe, those of the functions that only allocate first: the mirror of the attach order, so no
    /// block is recorded once its free can no longer be seen (the links of one range go in parallel, in no order).
    /// </summary>
    public void DetachAll()
    {
        _bpf.DetachRange(_firstAllocatingLink, int.MaxValue);
        _bpf.DetachAll();
    }

    private void Attach(string program, ProbeSite site, bool returnProbe, ulong cookie = 0)
    {
        if (Inherited is not null && !_options.CountOnly)
        {
            Inherited.Attach(_bpf, program, _options.ProcessId, site.OpenPath, site.ChosenOffset, returnProbe, cookie);
            return;
        }
        // Following children: on every process that maps the library (pid 0), so a child is probed from its first
        // instruction; the BPF side records only the processes in its "traced" map. Otherwise on the target alone.
        int pid = _options.FollowChildren && !_options.CountOnly ? 0 : _options.ProcessId;
        if (_multi) _bpf.AttachUprobeMulti(program, pid, site.OpenPath, site.ChosenOffset, returnProbe, cookie);
        else _bpf.AttachUprobe(program, pid == 0 ? -1 : pid, site.OpenPath, site.ChosenOffset, returnProbe, cookie);   // perf: -1 = all
    }

    private void Report(ProbeSite site)
        => _options.Verbose?.Invoke($"Probe {site.Symbol} in {site.LibraryPath}: entry 0x{site.EntryOffset:x} '{site.EntryInstruction}', chosen 0x{site.ChosenOffset:x} (+0x{site.Displacement:x}) '{site.ChosenInstruction}' — {site.Reason}.");
}
