using System;
using LeakTools.Model;

namespace LeakTools.Stacks;

/// <summary>Names the frames of the stacks of one traced target (a process or the kernel).</summary>
public interface IStackSymbolizer : IDisposable
{
    /// <summary>
    /// One frame per address, direct caller first. <paramref name="final"/> is false when a later call may name
    /// more (a module the symbolizer has not seen yet, in a target still running): such an answer is not cached.
    /// </summary>
    StackFrame[] Symbolize(ulong[] stack, out bool final);

    /// <summary>
    /// <paramref name="stack"/> cut at the first value that is no return address into executable code (its
    /// <see cref="CapturedStack.RejectedFrames"/> says how many were dropped), so that stacks that differ only in such
    /// garbage are one stack. <paramref name="final"/> as for <see cref="Symbolize"/>.
    /// </summary>
    CapturedStack KeepReturnAddresses(CapturedStack stack, out bool final);
}
