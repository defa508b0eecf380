using LeakTools.Model;

namespace LeakTools.Reachability;

/// <summary>The verdict on each block of a <see cref="BlockGraph"/>, and the bytes each definitely lost block makes indirectly lost.</summary>
public sealed class BlockClassification
{
    internal BlockClassification(LeakVerdict[] verdicts, ulong[] indirectBytes, int[] owners)
    {
        Verdicts = verdicts;
        IndirectBytes = indirectBytes;
        Owners = owners;
    }

    public LeakVerdict[] Verdicts { get; }

    /// <summary>Per definitely lost block: the bytes of the blocks lost only through it (0 for every other block).</summary>
    public ulong[] IndirectBytes { get; }

    /// <summary>Per indirectly lost block: the definitely lost block that owns it; the block itself otherwise.</summary>
    public int[] Owners { get; }
}
