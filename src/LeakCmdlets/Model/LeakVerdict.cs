namespace LeakTools.Model;

/// <summary>
/// What a reachability scan (Find-MemoryLeak -Verdict) says about an outstanding allocation, with valgrind
/// memcheck's names and rules. Declared worst first, so sorting by verdict puts DefinitelyLost first.
/// </summary>
public enum LeakVerdict : byte
{
    /// <summary>Nothing points at it: neither a root nor any other block.</summary>
    DefinitelyLost,
    /// <summary>Only lost blocks point at it; the definitely lost block that leads to it counts its bytes as indirect.</summary>
    IndirectlyLost,
    /// <summary>Only pointers into its middle reach it, none to its start.</summary>
    PossiblyLost,
    /// <summary>A root, or a reachable block, points at its start.</summary>
    Reachable,
    /// <summary>No verdict could be reached: the pause hit its deadline, was stopped, or some memory could not be read.</summary>
    Inconclusive,
}
