using System;
using System.Collections.Generic;
using LeakTools.Model;

namespace LeakTools.Reachability;

/// <summary>
/// The verdicts of one pass. A report finds each block's verdict by its position in the list that was judged (the
/// report's own read, in its order); the next pass looks blocks up by address and time (so a
/// block freed and allocated again at the same address is another block). A block that is not in the table was not
/// judged: allocated since the pause began, or freed before it.
/// </summary>
public sealed class VerdictTable
{
    private readonly List<(ulong Address, ulong Size, ulong TimestampNs)> _blocks;
    private readonly ClassifiedBlocks _verdicts;
    private (ulong[] Addresses, int[] Positions)? _lostByAddress;   // the lost blocks; built when a later pass first asks

    private VerdictTable(List<(ulong, ulong, ulong)> blocks, ClassifiedBlocks verdicts, string? inconclusiveReason, bool allInconclusive)
    {
        _blocks = blocks;
        _verdicts = verdicts;
        InconclusiveReason = inconclusiveReason;
        AllInconclusive = allInconclusive;
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
    /// <param name="keepReferrers">Whether each verdict names the pointer that reaches the block (for -IncludeAddresses).</param>
    public static VerdictTable Classify(ReachabilityScan scan, List<(ulong Address, ulong Size, ulong TimestampNs)> blocks, bool keepReferrers) =>
        new(blocks, scan.Classify(blocks, keepReferrers), scan.InconclusiveReason, allInconclusive: false);

    /// <summary>Whether every verdict is Inconclusive (the target was not paused), whatever was judged.</summary>
    public bool AllInconclusive { get; }

    /// <summary>How many blocks were judged.</summary>
    public int Count => _blocks.Count;

    /// <summary>The verdict on the block at <paramref name="position"/> of the judged list.</summary>
    public LeakVerdict VerdictAt(int position) => AllInconclusive ? LeakVerdict.Inconclusive : _verdicts.VerdictAt(position);

    /// <summary>The bytes the block at <paramref name="position"/> makes indirectly lost (non-zero only for a DefinitelyLost block).</summary>
    public ulong IndirectBytesAt(int position) => AllInconclusive ? 0 : _verdicts.IndirectBytesAt(position);

    /// <summary>The whole verdict on the block at <paramref name="position"/>, with the referrer that makes it possibly lost.</summary>
    public BlockVerdict this[int position] => AllInconclusive ? BlockVerdict.Inconclusive : _verdicts[position];

    /// <summary>Whether this pass found the block at <paramref name="address"/> allocated at <paramref name="timestampNs"/> lost (definitely or indirectly).</summary>
    public bool FoundLost(ulong address, ulong timestampNs)
    {
        if (AllInconclusive) return false;
        var (addresses, positions) = _lostByAddress ??= SortLostByAddress();
        int i = Array.BinarySearch(addresses, address);
        if (i < 0) return false;
        while (i > 0 && addresses[i - 1] == address) i--;   // an address can hold a record and the newer one that overlapped it
        for (; i < addresses.Length && addresses[i] == address; i++)
        {
            if (_blocks[positions[i]].TimestampNs == timestampNs) return true;
        }
        return false;
    }

    // Only the lost blocks: a later pass asks about the blocks it finds lost, and a healthy process has few.
    private (ulong[], int[]) SortLostByAddress()
    {
        int lost = 0;
        for (int i = 0; i < _blocks.Count; i++) lost += IsLost(i) ? 1 : 0;
        var addresses = new ulong[lost];
        var positions = new int[lost];
        for (int i = 0, k = 0; i < _blocks.Count; i++)
        {
            if (!IsLost(i)) continue;
            addresses[k] = _blocks[i].Address;
            positions[k++] = i;
        }
        AddressSort.Sort(addresses, positions, _blocks.Count);
        return (addresses, positions);
    }

    private bool IsLost(int position) => _verdicts.VerdictAt(position) is LeakVerdict.DefinitelyLost or LeakVerdict.IndirectlyLost;
}
