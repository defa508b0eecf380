using System;
using LeakTools.Model;
using LeakTools.Symbols;

namespace LeakTools.Stacks;

/// <summary>Kernel stacks named from kallsyms; without a <see cref="KernelSymbolizer"/> (stacks off), addresses only.</summary>
public sealed class KernelStackSymbolizer : IStackSymbolizer
{
    private readonly KernelSymbolizer? _symbols;

    public KernelStackSymbolizer(KernelSymbolizer? symbols) => _symbols = symbols;

    public StackFrame[] Symbolize(ulong[] stack, out bool final)
    {
        final = true;   // kernel text does not change while we trace
        return _symbols?.SymbolizeStack(stack)
            ?? Array.ConvertAll(stack, address => new StackFrame { Address = address, IsKernel = true, Module = KernelSymbolizer.KernelModuleName });
    }

    /// <summary>The kernel's own unwinder stored only frames it found in kernel text.</summary>
    public CapturedStack KeepReturnAddresses(CapturedStack stack, out bool final)
    {
        final = true;
        return stack;
    }

    public void Dispose() { }
}
