using System;
using System.Threading;

namespace LeakTools.Reachability;

/// <summary>
/// Keeps the copy buffer of a target's next verdict pass ready while the trace runs. A background thread looks at
/// the target's writable memory once a second (smaps) and prefaults the buffer a quarter beyond it; it also reads
/// the target's memory into the buffer each time the target has grown by a quarter, and once more when its growth
/// stops. The report after the window then only tops the buffer up. On this project's VM, prefaulting is 0.3–5 s
/// per GiB (see <see cref="SnapshotBuffer"/>); paid after the window, it was most of the wait for a verdict. The
/// buffer is kept from report to report, so -Interval pays for growth only.
/// </summary>
public sealed class SnapshotPreparer : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly int _processId;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread? _thread;
    private SnapshotBuffer? _buffer;
    private bool _lent;
    private volatile bool _wanted;   // a report waits for the buffer: the background step lets go at once
    private volatile bool _soon;     // a report is due within seconds: read the target once more before it
    private bool _failed;
    private ulong _warmedFor;        // the wanted size at the last warm-up
    private ulong _lastWanted;       // the background thread's last look (under _gate)
    private bool _disposed;

    /// <param name="inBackground">False: no background thread; <see cref="Take"/> prepares the whole buffer itself.</param>
    public SnapshotPreparer(int processId, bool inBackground = true)
    {
        _processId = processId;
        if (!inBackground) return;
        _thread = new Thread(Run) { IsBackground = true, Name = $"LeakTools verdict buffer {processId}" };
        _thread.Start();
    }

    /// <summary>
    /// A snapshot to fill in the next pause, over this preparer's buffer topped up to the background thread's last
    /// look at the target (or, without that thread, to a look taken now). The buffer is lent until the snapshot is
    /// disposed; take one at a time.
    /// </summary>
    public MemorySnapshot Take()
    {
        _wanted = true;
        lock (_gate)
        {
            _wanted = false;
            if (_lent) throw new InvalidOperationException("The buffer is still lent to an earlier snapshot.");
            // The background thread's look at smaps is at most a second old: reading smaps again here (70 ms for a
            // 1 GiB heap) would be paid after the window; growth since then is copied into reserved pages anyway.
            Ensure(_lastWanted > 0 ? _lastWanted : Wanted(), stop: null);
            _lent = true;
            return MemorySnapshot.Over(_buffer, Return);
        }
    }

    /// <summary>
    /// Says a report is due within a few seconds: the background thread reads the target into the buffer once more
    /// at its next look, whatever the growth. A pause long after the last read (a target that stopped growing early
    /// in the window) was at times slow again on this project's VM: 0.4–0.7 s per GiB instead of 0.15.
    /// </summary>
    public void ReportSoon() => _soon = true;

    /// <summary>How many times the background thread has read the target into the buffer (tests).</summary>
    internal int WarmUps { get; private set; }

    /// <summary>Whether the buffer is prefaulted for at least <paramref name="bytes"/> (tests).</summary>
    internal bool IsReadyFor(ulong bytes)
    {
        lock (_gate) return _buffer is not null && _buffer.Prefaulted >= bytes;
    }

    private void Return()
    {
        lock (_gate)
        {
            _lent = false;
            if (!_disposed) return;
            _buffer?.Dispose();
            _buffer = null;
        }
    }

    private void Run()
    {
        while (!_stop.IsSet)
        {
            ulong wanted = Wanted();
            lock (_gate)
            {
                ulong previous = _lastWanted;
                _lastWanted = wanted;
                if (!_lent)
                {
                    Ensure(wanted, Interrupted);
                    bool soon = _soon;
                    _soon = false;
                    if ((soon || ShouldWarmUp(wanted, previous)) && !Interrupted()) WarmUp(wanted);
                }
            }
            _stop.Wait(Period);
        }
    }

    private bool Interrupted() => _wanted || _stop.IsSet;

    // Again after growth by a quarter, and once more when the growth stops (so that the last part the target
    // wrote, the freshest, is read before the pause too); not for the few pages a steady target gains and loses.
    private bool ShouldWarmUp(ulong wanted, ulong previous)
    {
        ulong unwarmed = wanted > _warmedFor ? wanted - _warmedFor : 0;
        bool steady = wanted < previous + wanted / 64;
        return unwarmed >= _warmedFor / 4 || (steady && unwarmed >= wanted / 64);
    }

    /// <summary>
    /// Reads the target's memory once, as the pause will, into the buffer (under _gate). On this project's VM the
    /// first read of pages a process wrote recently costs 2–7 s per GiB, the next one 0.13 s: paid here, while the
    /// target runs, rather than in the pause. Done again when the target has grown by a quarter since, or has stopped
    /// growing with some of it not read yet.
    /// </summary>
    private void WarmUp(ulong wanted)
    {
        if (_buffer is null) return;
        try
        {
            using var rehearsal = MemorySnapshot.Over(_buffer, giveBack: static () => { });
            rehearsal.Fill(_processId, Array.Empty<ThreadRegisters>(), Interrupted);
            if (rehearsal.InconclusiveReason is null || !Interrupted()) _warmedFor = wanted;
            WarmUps++;
        }
        catch (TargetPauseException)
        {
            // Gone: the report says so.
        }
    }

    // What the copy will probably need: the writable memory smaps shows now, and room for what the target maps or
    // touches between this look and the pause.
    private ulong Wanted()
    {
        ulong estimate = MemorySnapshot.EstimateBytes(_processId);
        return estimate + estimate / 4 + (4UL << 20);
    }

    // Under _gate. A buffer that cannot be mapped is not asked for again: the copy maps its own in the pause.
    private void Ensure(ulong bytes, Func<bool>? stop)
    {
        if (_failed) return;
        try
        {
            if (_buffer is null || _buffer.Capacity < bytes)
            {
                _buffer?.Dispose();
                _buffer = null;
                _buffer = SnapshotBuffer.Allocate(bytes, reserveMachine: true);
            }
            _buffer.Prefault(bytes, stop);
        }
        catch (OutOfMemoryException)
        {
            _failed = true;
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread?.Join();
        lock (_gate)
        {
            _disposed = true;
            // A buffer still lent is freed when its snapshot gives it back, never under it.
            if (_lent) return;
            _buffer?.Dispose();
            _buffer = null;
        }
    }
}
