namespace LeakTools.Model;

/// <summary>How one leaking stack differs between a reference and a difference set of MemoryLeak objects.</summary>
public enum MemoryLeakChangeKind
{
    /// <summary>The same bytes and allocations on both sides.</summary>
    Unchanged,

    /// <summary>Holds more bytes in the difference set (or, with equal bytes, more allocations).</summary>
    Grown,

    Shrunk,

    /// <summary>Only in the difference set.</summary>
    New,

    /// <summary>Only in the reference set.</summary>
    Gone,
}
