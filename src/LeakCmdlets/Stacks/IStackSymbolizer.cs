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
}
