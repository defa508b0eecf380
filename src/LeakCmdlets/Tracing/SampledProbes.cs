using System;
using System.Collections.Generic;
using System.Diagnostics;
using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>
/// The low-overhead mode (Find-MemoryLeak -SampleRate N): the probes are attached only part of the time. A uprobe
/// hit costs the same whatever its program does (the trap is most of it), so only fewer hits make a busy target
/// faster. Each cycle of about N windows of one second:
/// <list type="number">
/// <item><b>Recording</b> (one window): every probe is attached; the allocations made now are the sample.</item>
/// <item><b>Frees only</b> (one window): the probes of the functions that release blocks (free, munmap, and realloc
/// and mremap, which move them) stay, so the sampled blocks that live less than a window are seen to die.</item>
/// <item><b>Off</b> (the rest, N - 2 windows, ±half a window at random so that a periodic leak cannot fall
/// between the windows every time). <see cref="SamplingCycle"/> keeps the time.</item>
/// </list>
/// A sampled block that is freed later, while the probes are off, stays counted: reports over-count blocks that live
/// longer than a window and then die (say so). A steady leak grows in every recording window; the report scales the
/// sample by N (<see cref="LeakTools.Model.MemoryLeak.SampleRate"/>).
/// Each window's probes carry their own attach cookie, so a call that entered through the last window's probe and
/// returned after its detach leaves a pending frame the next window drops without counting a loss.
/// </summary>
internal sealed class SampledProbes
{
    private readonly BpfObject _bpf;
    private readonly UprobeAttacher _attacher;
    private readonly List<(AllocatorProbe Probe, ProbeSite Site)> _plan;
    private readonly Action<string>? _verbose;
    private readonly SamplingCycle _cycle;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private uint _generation;

    /// <summary>Takes over probes <paramref name="attacher"/> has just attached (generation 0): the first window records.</summary>
    public SampledProbes(BpfObject bpf, UprobeAttacher attacher, List<(AllocatorProbe Probe, ProbeSite Site)> plan, uint rate, Action<string>? verbose)
    {
        _bpf = bpf;
        _attacher = attacher;
        _plan = plan;
        _verbose = verbose;
        _cycle = new SamplingCycle(rate, new Random());
        double window = SamplingCycle.Window.TotalSeconds;
        verbose?.Invoke($"Sampling: allocations are recorded {window:0} s in every {_cycle.Rate} s (then frees are watched for {window:0} s more, "
            + $"then no probe is attached); reported bytes and counts are the sample times {_cycle.Rate}.");
    }

    /// <summary>The functions whose probes stay through the frees-only window: those that release or move blocks.</summary>
    public static bool ReleasesBlocks(AllocatorProbe probe) => probe.Semantics is not (AllocatorSemantics.Allocates or AllocatorSemantics.Maps);

    /// <summary>Attaches or detaches when the cycle moves on. Call it often (every 200 ms or so), from one thread.</summary>
    public void Advance()
    {
        if (!_cycle.Advance(_clock.Elapsed)) return;
        switch (_cycle.Current)
        {
            case SamplingCycle.Phase.FreesOnly:
                // The frees' new probes first, then the old ones go: no free is missed in between.
                int old = _bpf.AttachedLinks;
                _attacher.AttachMemleakProbes(_plan, ++_generation, ReleasesBlocks);
                _bpf.DetachRange(_attacher.FirstProbeLink, old - _attacher.FirstProbeLink);
                break;
            case SamplingCycle.Phase.Off:
                // The allocator probes only: the process-tree tracepoints before them stay.
                _bpf.DetachRange(_attacher.FirstProbeLink, _bpf.AttachedLinks - _attacher.FirstProbeLink);
                break;
            case SamplingCycle.Phase.Recording:
                _attacher.AttachMemleakProbes(_plan, ++_generation, _ => true);
                _verbose?.Invoke($"Sampling window {_cycle.Windows}: recording for {SamplingCycle.Window.TotalSeconds:0} s.");
                break;
        }
    }
}
