namespace LeakTools.Stacks;

/// <summary>What a value taken for a return address turned out to be.</summary>
internal enum ReturnSiteKind
{
    /// <summary>Module code right after a call instruction: a return address.</summary>
    AfterCall,

    /// <summary>
    /// The signal return trampoline (__restore_rt) a signal handler returns to: a frame, though no call precedes it;
    /// the frame outer to it is the interrupted instruction, which no call precedes either.
    /// </summary>
    SignalReturn,

    /// <summary>Module code, but no call instruction ends there: not a return address.</summary>
    NotAfterCall,

    /// <summary>Inside a mapping that is not executable (stack, heap, data): not a return address.</summary>
    NotExecutable,

    /// <summary>Inside no known mapping (or no user address at all); a module loaded since the last snapshot may still hold it.</summary>
    Unmapped,

    /// <summary>Executable, but its code cannot be read (JIT code, [vdso], an unreadable module): taken as it is.</summary>
    Unverifiable,
}
