namespace LeakTools.Model;

/// <summary>Why the walk of a user stack stopped (enum memleak_stack_end in native/memleak.h).</summary>
public enum StackEnd
{
    /// <summary>Not recorded: a kernel stack, or only the direct caller was kept.</summary>
    None = 0,

    /// <summary>The outermost frame was reached (_start, clone3): the stack is complete.</summary>
    EndOfStack = 1,

    /// <summary>A frame in code that no unwind table covers and no valid frame pointer leads on from (JIT code, a module loaded a moment ago).</summary>
    UnknownCode = 2,

    /// <summary>The stack is deeper than the 128 frames kept (deep recursion): the outer frames are missing.</summary>
    DepthLimit = 3,

    /// <summary>The target's stack could not be read where the unwind rules pointed.</summary>
    ReadFault = 4,

    /// <summary>The next frame failed a check (its frame not above the last, more than 1 MiB away, or no user address) and was not taken.</summary>
    BadFrame = 5,
}
