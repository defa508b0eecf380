using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace LeakTools.Reachability;

/// <summary>
/// One verdict pass over a process: <see cref="Take"/> holds it still just long enough to copy its registers and
/// memory; <see cref="Classify"/> then scans the copy and classifies the blocks, with the target running again.
/// </summary>
public sealed class ReachabilityScan : IDisposable
{
    private readonly MemorySnapshot? _snapshot;
    private readonly IReadOnlyList<ThreadRegisters> _threads;

    private ReachabilityScan(MemorySnapshot? snapshot, IReadOnlyList<ThreadRegisters> threads, string? inconclusive, TimeSpan pause)
    {
        _snapshot = snapshot;
        _threads = threads;
        InconclusiveReason = inconclusive;
        PauseTime = pause;
    }

    /// <summary>Why the verdicts of this pass are Inconclusive, or null.</summary>
    public string? InconclusiveReason { get; }

    /// <summary>How long the target was held (from the helper's start, just before the first seize, until it let go).</summary>
    public TimeSpan PauseTime { get; }

    public int ThreadCount => _threads.Count;

    public ulong BytesCopied => _snapshot?.BytesCopied ?? 0;

    /// <summary>
    /// Pauses <paramref name="processId"/> for at most <paramref name="limit"/>, copies what the scan needs and lets
    /// it go. A pause that runs out of time, or is stopped, gives an inconclusive pass rather than holding on.
    /// </summary>
    /// <exception cref="TargetPauseException">Traced by someone else, gone, or the helper failed.</exception>
    /// <param name="snapshot">From <see cref="SnapshotPreparer.Take"/>, its buffer prepared while the target still ran
    /// (so that only the copy itself is paid in the pause); this scan owns it from here on.</param>
    public static ReachabilityScan Take(int processId, TimeSpan limit, Func<bool> stopRequested, MemorySnapshot snapshot)
    {
        var watch = Stopwatch.StartNew();
        TargetPause pause;
        try
        {
            pause = TargetPause.Begin(processId, limit);
        }
        catch (TargetPauseException ex) when (ex.Failure == PauseFailure.DeadlinePassed)
        {
            snapshot.Dispose();
            return new ReachabilityScan(null, Array.Empty<ThreadRegisters>(), ex.Message, watch.Elapsed);
        }
        catch
        {
            snapshot.Dispose();
            throw;
        }
        try
        {
            return PausedCopy(processId, limit, stopRequested, snapshot, pause, watch);
        }
        catch
        {
            snapshot.Dispose();   // the target was let go already (PausedCopy's finally)
            throw;
        }
    }

    // Copies while paused, and lets the target go whatever happens.
    private static ReachabilityScan PausedCopy(int processId, TimeSpan limit, Func<bool> stopRequested, MemorySnapshot snapshot,
        TargetPause pause, Stopwatch watch)
    {
        using (pause)
        {
            bool inTime;
            try
            {
                snapshot.Fill(processId, pause.Threads, stopRequested);
                HoldForTests(stopRequested);
                if (stopRequested()) snapshot.MarkInconclusive("a stop came while the target was paused");
            }
            finally
            {
                // Let go first, whatever happened; then judge the copy.
                inTime = pause.Resume();
            }
            if (!inTime)
            {
                snapshot.Dispose();
                return new ReachabilityScan(null, pause.Threads,
                    $"copying the memory took longer than the pause limit of {limit.TotalMilliseconds:0} ms; the target was let go", watch.Elapsed);
            }
            return new ReachabilityScan(snapshot, pause.Threads, snapshot.InconclusiveReason, pause.HeldTime);
        }
    }

    /// <summary>
    /// LEAKTOOLS_VERDICT_HOLD_MS keeps the target paused that much longer after the copy (within -PauseLimit), so
    /// that the safety tests can signal the tool while the target is surely stopped. A stop ends the hold.
    /// </summary>
    private static void HoldForTests(Func<bool> stopRequested)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("LEAKTOOLS_VERDICT_HOLD_MS"), out int hold) || hold <= 0) return;
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < hold && !stopRequested()) System.Threading.Thread.Sleep(5);
    }

    /// <summary>
    /// The verdicts on <paramref name="blocks"/> (address, size, and an order that says which of two overlapping
    /// records is newer), by position. Every verdict is Inconclusive when the pass is.
    /// </summary>
    /// <param name="keepReferrers">Whether each verdict names the pointer that reaches the block (<see cref="BlockVerdict.Referrer"/>; else 0).</param>
    public ClassifiedBlocks Classify(IReadOnlyList<(ulong Address, ulong Size, ulong Order)> blocks, bool keepReferrers = true)
    {
        if (_snapshot is null || InconclusiveReason is not null) return ClassifiedBlocks.Inconclusive(blocks.Count);
        var index = BlockIndex.Build(blocks, out int[] kept);
        var graph = PointerScanner.Scan(index, _snapshot, _threads, keepReferrers: keepReferrers);
        return ClassifiedBlocks.From(blocks.Count, kept, graph, LeakClassifier.Classify(graph));
    }

    public void Dispose() => _snapshot?.Dispose();
}
