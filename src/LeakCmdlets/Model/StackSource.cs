namespace LeakTools.Model;

/// <summary>How the frames of a stack were obtained, which says how far they can be trusted.</summary>
public enum StackSource
{
    /// <summary>No stack was kept (stack map full, capture error, stacks switched off): the direct caller alone, or nothing.</summary>
    CallerOnly = 1,

    /// <summary>The kernel's own unwind of a kernel allocation, innermost first.</summary>
    Kernel = 2,

    /// <summary>Walked in BPF by the unwind tables built from the modules' call frame information (.eh_frame): right without frame pointers.</summary>
    UnwindTables = 3,

    /// <summary>
    /// Walked by the unwind tables, with one or more validated frame-pointer steps through code no table covers
    /// (JIT code, a module without call frame information).
    /// </summary>
    UnwindTablesAndFramePointer = 4,
}
