namespace LeakTools.Stacks;

/// <summary>What the call instruction before a return address says about its target.</summary>
public enum CallKind
{
    /// <summary><c>call rel32</c>: the target is in the instruction (a function, or a PLT stub).</summary>
    Direct,

    /// <summary><c>call *disp(%rip)</c> (or an absolute address): the target is read from a known slot, a GOT entry.</summary>
    ThroughSlot,

    /// <summary><c>call *%rax</c>, <c>call *0x8(%rbx)</c>: the target is computed at run time and unknown here.</summary>
    Indirect,

    /// <summary>The bytes before the return address decode as more than one call: which one ran is unknown.</summary>
    Ambiguous,
}
