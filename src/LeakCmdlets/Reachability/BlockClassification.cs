using LeakTools.Model;

namespace LeakTools.Reachability;

/// <summary>The verdict on each block of a <see cref="BlockGraph"/>, and the bytes each definitely lost block makes indirectly lost.</summary>
public sealed class BlockClassification
{
    private readonly ulong[]? _indirectBytes;   // null when nothing is lost
    private readonly int[]? _owners;

    internal BlockClassification(LeakVerdict[] verdicts, ulong[]? indirectBytes, int[]? owners)
    {
        Verdicts = verdicts;
        _indirectBytes = indirectBytes;
        _owners = owners;
    }

    public LeakVerdict[] Verdicts { get; }

    /// <summary>For a definitely lost block: the bytes of the blocks lost only through it (0 for every other block).</summary>
    public ulong IndirectBytes(int block) => _indirectBytes?[block] ?? 0;

    /// <summary>For an indirectly lost block: the definitely lost block that owns it; the block itself otherwise.</summary>
    public int Owner(int block) => _owners?[block] ?? block;
}
