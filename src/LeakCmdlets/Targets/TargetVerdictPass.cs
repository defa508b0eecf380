using System;
using System.Collections.Generic;
using System.Diagnostics;
using LeakTools.Reachability;

namespace LeakTools.Targets;

/// <summary>
/// One -Verdict pass over a traced process, in two steps around the report's read of the outstanding blocks.
/// <see cref="Pause"/> copies the memory first; <see cref="Classify"/> then judges the blocks the report read
/// afterwards, only those allocated before the pause began. That one read is enough: a block in the map after the
/// pause and allocated before it was live during it (a block freed before the pause is gone from the map, and
/// would otherwise look lost, since nothing points at freed memory); a block allocated since is left out (its
/// memory was still free, or untraced, when it was copied).
/// </summary>
internal sealed class TargetVerdictPass : IDisposable
{
    /// <summary>
    /// memleak.bpf.c stamps allocations with a clock read once per scheduler tick (up to 10 ms early at HZ=100): a
    /// malloc that was in flight in the pause and returned after it may carry a time just before the pause. Blocks
    /// that young are not judged; they are in flight by any measure (-OlderThan is 500 ms by default).
    /// </summary>
    public const ulong RecordClockSlackNs = 10_000_000;

    private readonly ReachabilityScan? _scan;
    private readonly string? _inconclusiveReason;

    private TargetVerdictPass(ReachabilityScan? scan, ulong judgedUpToNs, string? inconclusiveReason)
    {
        _scan = scan;
        JudgedUpToNs = judgedUpToNs;
        _inconclusiveReason = inconclusiveReason;
    }

    /// <summary>How long the target was held (zero when it was not paused).</summary>
    public TimeSpan PauseTime => _scan?.PauseTime ?? TimeSpan.Zero;

    public ulong BytesCopied => _scan?.BytesCopied ?? 0;

    public int Threads => _scan?.ThreadCount ?? 0;

    /// <summary>Whether the target was paused at all (else every verdict is Inconclusive, for the reason given).</summary>
    public bool Paused => _scan is not null;

    /// <summary>How long <see cref="Classify"/> took (the scan of the copy and the classification).</summary>
    public TimeSpan ScanTime { get; private set; }

    /// <summary>How many blocks <see cref="Classify"/> judged.</summary>
    public int BlocksJudged { get; private set; }

    /// <summary>A pass that pauses nothing: every verdict Inconclusive, for <paramref name="reason"/>.</summary>
    public static TargetVerdictPass Inconclusive(string reason) => new(null, 0, reason);

    /// <summary>
    /// Pauses <paramref name="target"/> (at most <paramref name="limit"/>) and copies its memory into
    /// <paramref name="snapshot"/>, which the pass owns from here on. <paramref name="startNs"/>: a time taken
    /// before the pause began (the report's).
    /// </summary>
    /// <exception cref="TargetPauseException">The target is traced by another process, gone, or the helper failed.</exception>
    public static TargetVerdictPass Pause(TracedTarget target, MemorySnapshot snapshot, TimeSpan limit, Func<bool> stopRequested, ulong startNs)
    {
        var scan = ReachabilityScan.Take(target.ProcessId, limit, stopRequested, snapshot);
        return new TargetVerdictPass(scan, startNs > RecordClockSlackNs ? startNs - RecordClockSlackNs : 0, null);
    }

    /// <summary>
    /// The allocation time up to which blocks are judged: read the blocks after the pause, and hand those allocated
    /// up to this time to <see cref="Classify"/>.
    /// </summary>
    public ulong JudgedUpToNs { get; }

    /// <summary>The verdicts on <paramref name="blocks"/>: the target's own outstanding blocks allocated up to <see cref="JudgedUpToNs"/>, read after the pause.</summary>
    /// <param name="keepReferrers">Whether each verdict names the pointer that reaches the block (for -IncludeAddresses).</param>
    public VerdictTable Classify(List<(ulong Address, ulong Size, ulong TimestampNs)> blocks, bool keepReferrers)
    {
        if (_scan is null) return VerdictTable.Inconclusive(_inconclusiveReason ?? "the process was not paused");
        var watch = Stopwatch.StartNew();
        var table = VerdictTable.Classify(_scan, blocks, keepReferrers);
        ScanTime = watch.Elapsed;
        BlocksJudged = blocks.Count;
        return table;
    }

    public void Dispose() => _scan?.Dispose();
}
