using System;
using System.Collections.Generic;
using LeakTools.Model;
using LeakTools.Symbols;

namespace LeakTools.Stacks;

/// <summary>
/// A process's stacks named by its <see cref="ProcessSymbolizer"/>, which this owns: garbage cut off
/// (<see cref="KeepReturnAddresses"/>) and functions that tail-called onward put back (<see cref="TailCallResolver"/>).
/// </summary>
public sealed class UserStackSymbolizer : IStackSymbolizer
{
    private readonly ProcessSymbolizer _symbols;
    private readonly Func<bool> _targetGone;
    private readonly ReturnSiteReader _sites;
    private readonly TailCallResolver _tailCalls;

    /// <param name="symbols">The process's symbolizer; refreshed by whoever watches the process's modules.</param>
    /// <param name="targetGone">True once the process has exited: no later snapshot can name more then.</param>
    /// <param name="allocatorNames">The traced allocator functions: what the allocator's direct caller called, unless a tail call came between.</param>
    public UserStackSymbolizer(ProcessSymbolizer symbols, Func<bool> targetGone, IReadOnlySet<string> allocatorNames)
    {
        _symbols = symbols;
        _targetGone = targetGone;
        _sites = new ReturnSiteReader(symbols);
        _tailCalls = new TailCallResolver(_sites, allocatorNames);
    }

    public StackFrame[] Symbolize(ulong[] stack, out bool final)
    {
        // User stacks start at the allocator's direct caller, whose frame is a return address too (read at the
        // stack pointer on entry): it is looked up inside its call instruction, like the others.
        StackFrame[] frames = _symbols.SymbolizeStack(stack, firstIsReturnAddress: true);
        // The direct caller is always real code; outside every known mapping it is in a library loaded since the
        // last snapshot. (Outer frames were checked by KeepReturnAddresses.)
        final = frames.Length == 0 || frames[0].Module is not null || _targetGone();
        return _tailCalls.Insert(stack, frames);
    }

    /// <summary>
    /// Keeps the direct caller (the return probe's instruction pointer: always a return address) and each outer
    /// frame up to the first that lies outside executable code or is not preceded by a call instruction, decoded
    /// from the module file (the signal return trampoline and the interrupted instruction outer to it excepted). Code that cannot be read (JIT, [vdso]) is taken as it is. A frame outside every known
    /// mapping may be in a module loaded since the last snapshot: the answer is then not final while the target lives.
    /// </summary>
    public CapturedStack KeepReturnAddresses(CapturedStack stack, out bool final)
    {
        final = true;
        ulong[] frames = stack.Frames;
        bool afterSignal = false;
        for (int i = 1; i < frames.Length; i++)
        {
            ReturnSiteKind kind = _sites.Read(frames[i]).Kind;
            bool interrupted = afterSignal; // the instruction a signal interrupted: executable, but after no call
            afterSignal = kind == ReturnSiteKind.SignalReturn;
            if (kind is ReturnSiteKind.AfterCall or ReturnSiteKind.Unverifiable or ReturnSiteKind.SignalReturn) continue;
            if (interrupted && kind == ReturnSiteKind.NotAfterCall) continue;
            if (kind == ReturnSiteKind.Unmapped && frames[i] <= ProcessSymbolizer.MaxUserAddress && !_targetGone()) final = false;
            return stack with { Frames = frames[..i], RejectedFrames = frames.Length - i };
        }
        return stack;
    }

    public void Dispose() => _symbols.Dispose();
}
