using System;
using System.Collections.Generic;

namespace LeakTools.Reachability;

/// <summary>
/// The verdicts of one pass. A report finds each allocation's verdict by the slot its read gave it (one more than
/// its position in the judged list, checked against address and allocation time); the next pass looks
/// blocks up by address and time (so a block freed and allocated again at the same address is another block).
/// A block that is not in the table was not judged: allocated since the pause began, or freed before it.
/// </summary>
public sealed class VerdictTable
{
    private readonly List<(ulong Address, ulong Size, ulong TimestampNs)> _blocks;
    private readonly ClassifiedBlocks _verdicts;
    private readonly bool _allInconclusive;
    private (ulong[] Addresses, int[] Positions)? _byAddress;   // built when a later pass first asks

    private VerdictTable(List<(ulong, ulong, ulong)> blocks, ClassifiedBlocks verdicts, string? inconclusiveReason, bool allInconclusive)
    {
        _blocks = blocks;
        _verdicts = verdicts;
        InconclusiveReason = inconclusiveReason;
        _allInconclusive = allInconclusive;
    }

    /// <summary>Why the verdicts are Inconclusive, or null.</summary>
    public string? InconclusiveReason { get; }

    /// <summary>A table that answers Inconclusive for every block (the target could not be paused).</summary>
    public static VerdictTable Inconclusive(string reason) =>
        new(new List<(ulong, ulong, ulong)>(), ClassifiedBlocks.Inconclusive(0), reason, allInconclusive: true);

    /// <summary>
    /// The verdicts of <paramref name="blocks"/> (address, size, allocation time) as <paramref name="scan"/> finds
    /// them. The table keeps the list: position i of it is slot i + 1.
    /// </summary>
    public static VerdictTable Classify(ReachabilityScan scan, List<(ulong Address, ulong Size, ulong TimestampNs)> blocks) =>
        new(blocks, scan.Classify(blocks), scan.InconclusiveReason, allInconclusive: false);

    /// <summary>The verdict on the block in <paramref name="slot"/>, allocated at <paramref name="address"/> at <paramref name="timestampNs"/>; false when it was not judged (slot 0, or another block's).</summary>
    public bool TryGet(int slot, ulong address, ulong timestampNs, out BlockVerdict verdict)
    {
        if (_allInconclusive)
        {
            verdict = BlockVerdict.Inconclusive;
            return true;
        }
        int position = slot - 1;
        if (position < 0 || position >= _blocks.Count
            || _blocks[position].Address != address || _blocks[position].TimestampNs != timestampNs)
        {
            verdict = default;
            return false;
        }
        verdict = _verdicts[position];
        return true;
    }

    /// <summary>Whether this pass found the block at <paramref name="address"/> allocated at <paramref name="timestampNs"/> lost (definitely or indirectly).</summary>
    public bool FoundLost(ulong address, ulong timestampNs)
    {
        if (_allInconclusive) return false;
        var (addresses, positions) = _byAddress ??= SortByAddress();
        int i = Array.BinarySearch(addresses, address);
        if (i < 0) return false;
        while (i > 0 && addresses[i - 1] == address) i--;   // an address can hold a record and the newer one that overlapped it
        for (; i < addresses.Length && addresses[i] == address; i++)
        {
            if (_blocks[positions[i]].TimestampNs == timestampNs) return _verdicts[positions[i]].IsLost;
        }
        return false;
    }

    private (ulong[], int[]) SortByAddress()
    {
        var addresses = new ulong[_blocks.Count];
        var positions = new int[_blocks.Count];
        for (int i = 0; i < addresses.Length; i++)
        {
            addresses[i] = _blocks[i].Address;
            positions[i] = i;
        }
        Array.Sort(addresses, positions);
        return (addresses, positions);
    }
}
