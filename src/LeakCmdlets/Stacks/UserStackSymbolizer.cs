using System;
using LeakTools.Model;
using LeakTools.Symbols;

namespace LeakTools.Stacks;

/// <summary>A process's stacks named by its <see cref="ProcessSymbolizer"/>, which this owns.</summary>
public sealed class UserStackSymbolizer : IStackSymbolizer
{
    private readonly ProcessSymbolizer _symbols;
    private readonly Func<bool> _targetGone;

    /// <param name="symbols">The process's symbolizer; refreshed by whoever watches the process's modules.</param>
    /// <param name="targetGone">True once the process has exited: no later snapshot can name more then.</param>
    public UserStackSymbolizer(ProcessSymbolizer symbols, Func<bool> targetGone)
    {
        _symbols = symbols;
        _targetGone = targetGone;
    }

    public StackFrame[] Symbolize(ulong[] stack, out bool final)
    {
        // User stacks start at the allocator's direct caller, whose frame is a return address too (read at the
        // stack pointer on entry): it is looked up inside its call instruction, like the others.
        StackFrame[] frames = _symbols.SymbolizeStack(stack, firstIsReturnAddress: true);
        // The direct caller is always real code; outside every known mapping it is in a library loaded since the
        // last snapshot. (Outer frames of code without frame pointers may be garbage: they do not count.)
        final = frames.Length == 0 || frames[0].Module is not null || _targetGone();
        return frames;
    }

    public void Dispose() => _symbols.Dispose();
}
