using System;
using System.Collections.Generic;
using LeakTools.Bpf;
using LeakTools.Targets;

namespace LeakTools.Tracing;

/// <summary>
/// Loads the user-space programs of a probe plan and attaches them to the target's allocator library, through
/// multi-uprobe links where the kernel has them (fast to detach), through perf-event uprobes otherwise.
/// </summary>
internal sealed class UprobeAttacher
{
    private readonly BpfObject _bpf;
    private readonly AllocationTracerOptions _options;
    private readonly TargetLibrary _library;
    private readonly bool _multi;

    public UprobeAttacher(BpfObject bpf, AllocationTracerOptions options, TargetLibrary library)
    {
        _bpf = bpf;
        _options = options;
        _library = library;
        _multi = TracerPreflight.KernelHasUprobeMultiLinks();
        options.Verbose?.Invoke(_multi
            ? "Attaching through multi-uprobe links (BPF_TRACE_UPROBE_MULTI)."
            : "This kernel has no multi-uprobe links: attaching through perf-event uprobes (slower to detach).");
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
        var planned = new HashSet<AllocatorFunction>();
        foreach (var (probe, _) in plan) planned.Add(probe.Function);
        foreach (AllocatorProbe probe in AllocatorProbe.UserSpace)
        {
            bool on = planned.Contains(probe.Function);
            _bpf.SetAutoload(probe.EntryProgram, on);
            if (probe.ReturnProgram is not null) _bpf.SetAutoload(probe.ReturnProgram, on);
            if (on && _multi)
            {
                _bpf.SetExpectedAttachType(probe.EntryProgram, BpfObject.AttachTypeUprobeMulti);
                if (probe.ReturnProgram is not null) _bpf.SetExpectedAttachType(probe.ReturnProgram, BpfObject.AttachTypeUprobeMulti);
            }
        }
        foreach (var k in AllocatorProbe.Kernel) _bpf.SetAutoload(k.Program, false);
        _bpf.Load();
        loaded?.Invoke();

        foreach (var (probe, site) in plan)
        {
            Report(site);
            // Return probe first: an entry without its return would count a missed return.
            if (probe.ReturnProgram is not null) Attach(probe.ReturnProgram, site, true);
            Attach(probe.EntryProgram, site, false);
            attached.Add(site);
        }
    }

    private void Attach(string program, ProbeSite site, bool returnProbe, ulong cookie = 0)
    {
        int pid = _options.ProcessId;
        if (_multi) _bpf.AttachUprobeMulti(program, pid, _library.OpenPath, site.ChosenOffset, returnProbe, cookie);
        else _bpf.AttachUprobe(program, pid, _library.OpenPath, site.ChosenOffset, returnProbe, cookie);
    }

    private void Report(ProbeSite site)
        => _options.Verbose?.Invoke($"Probe {site.Symbol}: entry 0x{site.EntryOffset:x} '{site.EntryInstruction}', chosen 0x{site.ChosenOffset:x} (+0x{site.Displacement:x}) '{site.ChosenInstruction}' — {site.Reason}.");
}
