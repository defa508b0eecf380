namespace LeakTools.Model;

/// <summary>How a mapping differs between two snapshots.</summary>
public enum MappingChangeKind
{
    Unchanged,
    /// <summary>Rss grew (or, with equal Rss, the size or private dirty pages did).</summary>
    Grown,
    Shrunk,
    /// <summary>Only in the later snapshot.</summary>
    Added,
    /// <summary>Only in the earlier snapshot.</summary>
    Removed,
}
