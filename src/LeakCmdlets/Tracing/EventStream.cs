using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using LeakTools.Bpf;
using LeakTools.Interop;

namespace LeakTools.Tracing;

/// <summary>
/// The streamed calls of one tracer, in timestamp order. memleak.bpf.c stages events per CPU and writes them to
/// the ring in batches, so batches of different CPUs arrive out of order, and a quiet CPU's last events wait in its
/// stage. Every flush period, when nothing is ready, the stream runs memleak__flush on every CPU, then reads the
/// ring up to where the BPF side had got: from then on every event stamped before the round began is in hand
/// (events are stamped while their stage is held, and a held stage makes the round incomplete), so those are
/// released, oldest first. Events reach the consumer a flush period or two after they happen.
/// One consuming thread at a time; Dispose of the tracer may come from any thread.
/// </summary>
internal sealed class EventStream
{
    public const int FlushPeriodMs = 5;
    private const string FlushProgram = "memleak__flush";
    private const int NoSuchCpu = -(int)Errno.ENXIO;   // an offline CPU stages nothing

    private readonly BpfObject _bpf;
    private readonly RingBufferReader _ring;
    private readonly bool[] _offline;   // possible CPUs that were offline at the last check (rechecked every second)
    private int _roundsSinceCheck;
    private readonly MemleakAbi.Event[] _batch = new MemleakAbi.Event[4096];
    private readonly PriorityQueue<MemleakAbi.Event, (ulong TimestampNs, long Arrival)> _pending = new();
    private long _arrivals;
    private ulong _watermarkNs;   // every event stamped before this is in _pending or taken
    private long _lastRound;
    private volatile bool _stopped;

    public EventStream(BpfObject bpf, RingBufferReader ring, int cpuCount)
    {
        _bpf = bpf;
        _ring = ring;
        _offline = new bool[cpuCount];
    }

    /// <summary>
    /// Runs the flush program once, on CPU 0, to learn whether the kernel can (BPF_PROG_TEST_RUN on a chosen CPU
    /// needs Linux 5.10). Throws <see cref="BpfOperationException"/> when it cannot.
    /// </summary>
    public void Probe()
    {
        int rc = _bpf.RunOnCpu(FlushProgram, 0);
        if (rc < 0)
            throw new BpfOperationException($"This kernel cannot run the event stream's flush program on a chosen CPU: {ErrnoMessage.Describe(rc)}.", rc);
    }

    /// <summary>Ends waits and rounds; called by the tracer's Dispose, from any thread.</summary>
    public void Stop() => _stopped = true;

    public bool TryTake(out MemleakAbi.Event e, int timeoutMs)
    {
        var waited = timeoutMs > 0 ? Stopwatch.StartNew() : null;
        while (!_stopped)
        {
            if (_pending.TryPeek(out e, out var key) && key.TimestampNs < _watermarkNs)
            {
                _pending.Dequeue();
                return true;
            }
            long sinceRoundMs = (Stopwatch.GetTimestamp() - _lastRound) * 1000 / Stopwatch.Frequency;
            if (sinceRoundMs >= FlushPeriodMs)
            {
                try { FlushRound(); }
                catch (ObjectDisposedException) { break; }   // the tracer was disposed from another thread
                continue;
            }
            int left = waited is null ? 0 : timeoutMs - (int)waited.ElapsedMilliseconds;
            if (left <= 0) break;
            Thread.Sleep((int)Math.Max(1, Math.Min(left, FlushPeriodMs - sinceRoundMs)));
        }
        e = default;
        return false;
    }

    private void FlushRound()
    {
        _lastRound = Stopwatch.GetTimestamp();
        ulong startNs = MonotonicClock.NowNs();
        bool complete = true;
        bool recheck = ++_roundsSinceCheck >= 1000 / FlushPeriodMs;
        if (recheck) _roundsSinceCheck = 0;
        for (int cpu = 0; cpu < _offline.Length; cpu++)
        {
            if (_offline[cpu] && !recheck) continue;
            int rc = _bpf.RunOnCpu(FlushProgram, cpu);
            _offline[cpu] = rc == NoSuchCpu;
            if (rc != 0 && rc != NoSuchCpu) complete = false;   // 1: its stage was in use; retried next round
        }
        // Everything staged before the round is now in the ring below this position (or still being copied in).
        ulong target = _ring.ProducerPosition;
        while (_ring.ConsumerPosition < target)
        {
            int n = _ring.Read(_batch.AsSpan());
            if (n == 0) break;   // a record still being written: next round
            for (int i = 0; i < n; i++) _pending.Enqueue(_batch[i], (_batch[i].TimestampNs, _arrivals++));
        }
        if (complete && _ring.ConsumerPosition >= target) _watermarkNs = startNs;
    }
}
