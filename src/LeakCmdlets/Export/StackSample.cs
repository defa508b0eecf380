using System.Collections.Generic;

namespace LeakTools.Export;

/// <summary>
/// One input stack reduced to what a flame graph needs: frame names outermost first
/// (the root frame, usually the process name, comes first) and the bytes and allocations it holds.
/// </summary>
public sealed class StackSample
{
    public StackSample(IReadOnlyList<FlameFrameName> frames, long bytes, long count)
    {
        Frames = frames;
        Bytes = bytes;
        Count = count;
    }

    /// <summary>Outermost frame first, allocation site last.</summary>
    public IReadOnlyList<FlameFrameName> Frames { get; }

    public long Bytes { get; }

    public long Count { get; }

    public long WeightOf(FlameGraphWeight weight) => weight == FlameGraphWeight.Count ? Count : Bytes;
}
