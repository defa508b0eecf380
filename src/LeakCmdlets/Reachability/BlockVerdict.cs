using LeakTools.Model;

namespace LeakTools.Reachability;

/// <summary>
/// The verdict on one traced block: its <see cref="LeakVerdict"/>, the bytes it makes indirectly lost (a
/// definitely lost block only), and for a possibly lost block where the first pointer into it was found
/// (<see cref="BlockGraph.InRegister"/> for a register) and how far into the block it points.
/// </summary>
public readonly record struct BlockVerdict(LeakVerdict Verdict, ulong IndirectBytes, ulong Referrer, ulong ReferrerOffset)
{
    public static readonly BlockVerdict Inconclusive = new(LeakVerdict.Inconclusive, 0, 0, 0);

    public bool IsLost => Verdict is LeakVerdict.DefinitelyLost or LeakVerdict.IndirectlyLost;
}
