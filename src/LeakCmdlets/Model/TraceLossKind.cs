namespace LeakTools.Model;

/// <summary>
/// The counters of <see cref="TraceLoss"/>; enum memleak_loss in native/memleak.h, where each eBPF counter names
/// the one it rolls into.
/// </summary>
internal enum TraceLossKind
{
    /// <summary>Not a loss: a count, or a deliberate skip (sampling, size filter, nested calls).</summary>
    None,
    MapFull,
    StacksLost,
    MissedReturns,
    RingBufferDrops,
    MismatchedRecords,
}
