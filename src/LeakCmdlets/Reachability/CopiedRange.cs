namespace LeakTools.Reachability;

/// <summary>A run of the target's memory, [Address, Address + Length), copied to <see cref="Offset"/> of a snapshot's buffer.</summary>
public readonly record struct CopiedRange(ulong Address, ulong Offset, int Length)
{
    public ulong End => Address + (ulong)Length;
}
