namespace LeakTools.Stacks;

/// <summary>How the frames of a <see cref="CapturedStack"/> were obtained, which says how far they can be trusted.</summary>
public enum StackSource
{
    /// <summary>
    /// The user stack the BPF side stored: the allocator's direct caller, then the frame-pointer chain
    /// (in code built without frame pointers it may read garbage; C# cuts the stack at the first value that is no
    /// return address, see <see cref="IStackSymbolizer.KeepReturnAddresses"/>).
    /// </summary>
    FramePointer,

    /// <summary>No stack was kept (stack map full, capture error, stacks switched off): the direct caller alone, or nothing.</summary>
    CallerOnly,

    /// <summary>The kernel's own unwind of a kernel allocation, innermost first.</summary>
    Kernel,
}
