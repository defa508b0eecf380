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
/// between the windows every time).</item>
/// </list>
/// A sampled block that is freed later, while the probes are off, stays counted: reports over-count blocks that live
/// longer than a window and then die (say so). A steady leak grows in every recording window; the report scales the
/// sample by N (<see cref="LeakTools.Model.MemoryLeak.SampleRate"/>).
/// Each window's probes carry their own attach cookie, so a call that entered through the last window's probe and
/// returned after its detach leaves a pending frame the next window drops without counting a loss.
/// </summary>
internal sealed class SampledProbes
{
    /// <summary>How long allocations are recorded in each cycle, and how long the frees are watched after.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private enum Phase { Recording, FreesOnly, Off }

    private readonly BpfObject _bpf;
    private readonly UprobeAttacher _attacher;
    private readonly List<(AllocatorProbe Probe, ProbeSite Site)> _plan;
    private readonly uint _rate;
    private readonly Action<string>? _verbose;
    private readonly Random _random = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Phase _phase = Phase.Recording;
    private TimeSpan _cycleStart;
    private TimeSpan _phaseEnd;
    private uint _generation;

    /// <summary>Takes over probes <paramref name="attacher"/> has just attached (generation 0): the first window records.</summary>
    public SampledProbes(BpfObject bpf, UprobeAttacher attacher, List<(AllocatorProbe Probe, ProbeSite Site)> plan, uint rate, Action<string>? verbose)
    {
        _bpf = bpf;
        _attacher = attacher;
        _plan = plan;
        _rate = Math.Max(2, rate);
        _verbose = verbose;
        _phaseEnd = Window;
        verbose?.Invoke($"Sampling: allocations are recorded {Window.TotalSeconds:0} s in every {_rate} s (then frees are watched for {Window.TotalSeconds:0} s more, "
            + $"then no probe is attached); reported bytes and counts are the sample times {_rate}.");
    }

    /// <summary>How long allocations have been recorded so far.</summary>
    public TimeSpan RecordedTime { get; private set; }

    /// <summary>The functions whose probes stay through the frees-only window: those that release or move blocks.</summary>
    public static bool ReleasesBlocks(AllocatorProbe probe) => probe.Semantics is not (AllocatorSemantics.Allocates or AllocatorSemantics.Maps);

    /// <summary>Moves to the next phase when the current one is over. Call it often (every 200 ms or so), from one thread.</summary>
    public void Advance()
    {
        TimeSpan now = _clock.Elapsed;
        if (now < _phaseEnd) return;
        switch (_phase)
        {
            case Phase.Recording:
                // The frees' new probes first, then the old ones go: no free is missed in between.
                int old = _bpf.AttachedLinks;
                _attacher.AttachMemleakProbes(_plan, ++_generation, ReleasesBlocks);
                _bpf.DetachOldest(old);
                RecordedTime += now - _cycleStart;
                _phase = Phase.FreesOnly;
                _phaseEnd = _clock.Elapsed + Window;
                break;
            case Phase.FreesOnly:
                _bpf.DetachAll();
                _phase = Phase.Off;
                _phaseEnd = _cycleStart + NextCycleLength();
                break;
            case Phase.Off:
                _attacher.AttachMemleakProbes(_plan, ++_generation, _ => true);
                _cycleStart = _clock.Elapsed;
                _phase = Phase.Recording;
                _phaseEnd = _cycleStart + Window;
                _verbose?.Invoke($"Sampling window {_generation / 2 + 1}: recording for {Window.TotalSeconds:0} s.");
                break;
        }
    }

    /// <summary>About N windows, jittered by up to half a window either way (never shorter than the two windows with probes).</summary>
    private TimeSpan NextCycleLength()
    {
        double windows = _rate >= 3 ? _rate + (_random.NextDouble() - 0.5) : _rate;
        return Window * Math.Max(2, windows);
    }
}
