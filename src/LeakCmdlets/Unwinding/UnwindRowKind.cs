namespace LeakTools.Unwinding;

/// <summary>
/// How one row of an unwind table finds the caller's frame on x86-64 (enum unwind_kind in native/memleak.h).
/// The return address is always at CFA-8; only the CFA rule and where rbp was saved vary.
/// </summary>
public enum UnwindRowKind : byte
{
    /// <summary>CFA = rsp + offset.</summary>
    Rsp = 0,

    /// <summary>CFA = rbp + offset (code that set up a frame pointer, or realigned its stack).</summary>
    Rbp = 1,

    /// <summary>A PLT stub: CFA = rsp + 8, plus 8 past the stub's push (the 16-byte entry's offset 11 on).</summary>
    Plt = 2,

    /// <summary>A signal trampoline (__restore_rt): the interrupted registers are in the ucontext at rsp.</summary>
    SignalFrame = 3,

    /// <summary>The outermost frame: the return address is undefined (_start, clone's child).</summary>
    EndOfStack = 4,

    /// <summary>No rule this walk can follow: no FDE covers the pc, or its CFA is an expression other than the above.</summary>
    Unknown = 5,
}
