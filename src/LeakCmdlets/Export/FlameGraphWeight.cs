namespace LeakTools.Export;

/// <summary>What the width of a flame graph frame stands for.</summary>
public enum FlameGraphWeight
{
    /// <summary>Outstanding (or allocated) bytes.</summary>
    Bytes,

    /// <summary>Number of allocations.</summary>
    Count,
}
