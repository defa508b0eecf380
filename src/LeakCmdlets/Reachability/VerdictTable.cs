using System;
using System.Collections.Generic;
using LeakTools.Model;

namespace LeakTools.Reachability;

/// <summary>
/// The verdicts of one pass, looked up by block (address and allocation time, so a block freed and allocated
/// again at the same address is another block). A block that is not in the table was freed while the pass ran:
/// it is no longer outstanding.
/// </summary>
public sealed class VerdictTable
{
    private readonly ulong[] _addresses;
    private readonly ulong[] _timestamps;
    private readonly BlockVerdict[] _verdicts;
    private readonly bool _allInconclusive;

    private VerdictTable(ulong[] addresses, ulong[] timestamps, BlockVerdict[] verdicts, string? inconclusiveReason, bool allInconclusive)
    {
        _addresses = addresses;
        _timestamps = timestamps;
        _verdicts = verdicts;
        InconclusiveReason = inconclusiveReason;
        _allInconclusive = allInconclusive;
    }

    /// <summary>Why the verdicts are Inconclusive, or null.</summary>
    public string? InconclusiveReason { get; }

    /// <summary>A table that answers Inconclusive for every block (the target could not be paused).</summary>
    public static VerdictTable Inconclusive(string reason) =>
        new(Array.Empty<ulong>(), Array.Empty<ulong>(), Array.Empty<BlockVerdict>(), reason, allInconclusive: true);

    /// <summary>
    /// The verdicts of <paramref name="blocks"/> (address, size, allocation time), sorted by address, as
    /// <paramref name="scan"/> finds them.
    /// </summary>
    public static VerdictTable Classify(ReachabilityScan scan, List<(ulong Address, ulong Size, ulong TimestampNs)> blocks)
    {
        blocks.Sort((a, b) => a.Address.CompareTo(b.Address));
        var verdicts = scan.Classify(blocks);
        var addresses = new ulong[blocks.Count];
        var timestamps = new ulong[blocks.Count];
        for (int i = 0; i < blocks.Count; i++)
        {
            addresses[i] = blocks[i].Address;
            timestamps[i] = blocks[i].TimestampNs;
        }
        return new VerdictTable(addresses, timestamps, verdicts, scan.InconclusiveReason, allInconclusive: false);
    }

    /// <summary>The verdict on the block at <paramref name="address"/> allocated at <paramref name="timestampNs"/>; false when it was freed meanwhile.</summary>
    public bool TryGet(ulong address, ulong timestampNs, out BlockVerdict verdict)
    {
        if (_allInconclusive)
        {
            verdict = BlockVerdict.Inconclusive;
            return true;
        }
        int i = Array.BinarySearch(_addresses, address);
        if (i < 0 || _timestamps[i] != timestampNs)
        {
            verdict = default;
            return false;
        }
        verdict = _verdicts[i];
        return true;
    }

    /// <summary>Whether this pass found that block lost (definitely or indirectly).</summary>
    public bool FoundLost(ulong address, ulong timestampNs) => TryGet(address, timestampNs, out var verdict) && verdict.IsLost;

    /// <summary>How many blocks had each verdict.</summary>
    public Dictionary<LeakVerdict, int> Counts()
    {
        var counts = new Dictionary<LeakVerdict, int>();
        foreach (var verdict in _verdicts) counts[verdict.Verdict] = counts.GetValueOrDefault(verdict.Verdict) + 1;
        return counts;
    }
}
