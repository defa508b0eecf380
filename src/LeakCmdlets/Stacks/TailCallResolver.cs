using System;
using System.Collections.Generic;
using LeakTools.Model;
using LeakTools.Symbols;

namespace LeakTools.Stacks;

/// <summary>
/// Names the functions that left a stack by a tail call. A function that ends in <c>return calloc(...)</c> compiles
/// to <c>jmp calloc</c>: its frame is gone, and the return address its caller pushed now leads back from calloc. So
/// the call instruction before each return address is decoded (<see cref="ReturnSiteReader"/>) and its target
/// resolved: a direct <c>call rel32</c>, a call through a PLT stub, or a <c>call *slot(%rip)</c> through the GOT
/// (named by the slot's dynamic relocation). When that target is not the function the next-inner frame is in (nor an
/// alias of it at the same address, nor its .cold part), the target tail-called onward, and a frame marked
/// <see cref="StackFrame.IsTailCall"/> is inserted for it. For the innermost frame, the next-inner function is the
/// allocator itself. Indirect calls, IFUNCs and targets without symbols give no frame: unknown, never a guess.
/// </summary>
internal sealed class TailCallResolver
{
    private readonly ReturnSiteReader _sites;
    private readonly IReadOnlySet<string> _allocatorNames;

    /// <param name="sites">The process's return-address checks (with their per-call-site cache).</param>
    /// <param name="allocatorNames">The traced allocator functions ("malloc", "calloc", ...): what the innermost frame called.</param>
    public TailCallResolver(ReturnSiteReader sites, IReadOnlySet<string> allocatorNames)
    {
        _sites = sites;
        _allocatorNames = allocatorNames;
    }

    /// <summary>
    /// <paramref name="frames"/> (named from <paramref name="stack"/>, innermost first) with a tail-call frame inserted
    /// inner to each frame whose call reached another function than the one the frame inner to it is in.
    /// Returns <paramref name="frames"/> itself when there is none.
    /// </summary>
    public StackFrame[] Insert(ulong[] stack, StackFrame[] frames)
    {
        List<StackFrame>? result = null;
        for (int i = 0; i < stack.Length; i++)
        {
            // Outer to a signal frame is the interrupted instruction: it called nothing that the inner frame is in.
            bool interrupted = i > 0 && _sites.Read(stack[i - 1]).Kind == ReturnSiteKind.SignalReturn;
            StackFrame? tailCaller = interrupted ? null : FindTailCaller(stack[i], i == 0 ? null : stack[i - 1]);
            if (tailCaller is not null)
            {
                result ??= new List<StackFrame>(frames[..i]);
                result.Add(tailCaller);
            }
            result?.Add(frames[i]);
        }
        return result?.ToArray() ?? frames;
    }

    /// <summary>
    /// The function the call before <paramref name="returnAddress"/> reached, as a tail-call frame, when it is not the
    /// function that holds <paramref name="innerReturnAddress"/> (null: the allocator); null when it is, or when
    /// that cannot be told.
    /// </summary>
    public StackFrame? FindTailCaller(ulong returnAddress, ulong? innerReturnAddress)
    {
        ReturnSite site = _sites.Read(returnAddress);
        if (site.Kind != ReturnSiteKind.AfterCall || !TryResolveTarget(site, out CallTarget target)) return null;

        if (innerReturnAddress is not { } inner)
            return _allocatorNames.Contains(target.Name) ? null : Frame(target, site.Module!);

        // The function the inner frame is in (looked up inside its call, one byte before the return address).
        CodeLocation innerLocation = _sites.Symbols.Locate(inner - 1);
        if (innerLocation.Kind != CodeLocationKind.ModuleCode
            || innerLocation.Module!.GetSymbols()?.Functions is not { } innerFunctions
            || !innerFunctions.TryFind(innerLocation.VirtualAddress, out string innerName, out ulong innerOffset))
            return null;
        ulong innerStart = innerLocation.VirtualAddress - innerOffset;
        if (IsSameFunction(target.Name, innerName)) return null;
        if (ReferenceEquals(target.Module, innerLocation.Module) && target.VirtualAddress == innerStart) return null;
        // A name the dynamic linker binds: an alias of the inner function when the inner module defines it there.
        if (target.Module is null && innerLocation.Module!.TryFindExport(target.Name, out ElfFunction export))
        {
            if (export.IsIndirect) return null; // an IFUNC: which implementation it bound to is not known here
            if (export.Value == innerStart) return null;
            return Frame(new CallTarget(innerLocation.Module, export.Value, target.Name), site.Module!);
        }
        return Frame(target, site.Module!);
    }

    /// <summary>"foo" and its split-off cold part "foo.cold" are one function.</summary>
    private static bool IsSameFunction(string target, string inner) =>
        inner == target || (inner.StartsWith(target, StringComparison.Ordinal) && inner.AsSpan(target.Length).StartsWith(".cold", StringComparison.Ordinal));

    /// <summary>
    /// The tail-call frame for <paramref name="target"/>; a name alone is first looked up where the dynamic linker
    /// would most likely have bound it from <paramref name="caller"/>.
    /// </summary>
    private StackFrame? Frame(CallTarget target, SymbolizerModule caller)
    {
        if (target.Module is null && !TryFindDefinition(target.Name, caller, out target)) return null;
        ProcessSymbolizer symbols = _sites.Symbols;
        StackFrame frame;
        if (symbols.TryGetRuntimeAddress(target.Module!, target.VirtualAddress, out ulong address))
        {
            frame = symbols.Symbolize(address);
            frame.Symbol ??= target.Name;
        }
        else
        {
            frame = new StackFrame { Symbol = target.Name, Module = target.Module!.FileName, ModulePath = target.Module.ModulePath };
        }
        frame.IsTailCall = true;
        return frame;
    }

    /// <summary>
    /// The function a call reached: in its module at its link-time entry address, or (bound by the dynamic linker
    /// through a PLT stub or a GOT slot) by name alone, with no module yet.
    /// </summary>
    private static bool TryResolveTarget(in ReturnSite site, out CallTarget target)
    {
        target = default;
        SymbolizerModule module = site.Module!;
        switch (site.Call.Kind)
        {
            case CallKind.Direct:
                ulong entry = site.Call.Target;
                Span<byte> code = stackalloc byte[16];
                // A PLT stub: the function is whatever its GOT slot is bound to.
                if (module.TryReadCode(entry, code, out int count) && X86CallDecoder.TryDecodeSlotJump(code[..count], entry, out ulong pltSlot))
                    return TryResolveSlot(module, pltSlot, out target);
                return TryFunctionAt(module, entry, out target);
            case CallKind.ThroughSlot:
                return TryResolveSlot(module, site.Call.Target, out target);
            default:
                return false; // indirect or ambiguous: unknown
        }
    }

    /// <summary>The function that starts at <paramref name="entry"/>; false when no symbol starts there (nothing to name it by).</summary>
    private static bool TryFunctionAt(SymbolizerModule module, ulong entry, out CallTarget target)
    {
        target = default;
        if (module.GetSymbols()?.Functions is not { } functions || !functions.TryFind(entry, out string name, out ulong offset) || offset != 0) return false;
        target = new CallTarget(module, entry, name);
        return true;
    }

    /// <summary>What a GOT slot of <paramref name="module"/> is bound to: a symbol by name, or (R_X86_64_RELATIVE) an address in the module itself.</summary>
    private static bool TryResolveSlot(SymbolizerModule module, ulong slot, out CallTarget target)
    {
        target = default;
        if (!module.TryGetRelocation(slot, out ElfRelocation relocation)) return false;
        switch (relocation.Type)
        {
            case ElfRelocation.JumpSlot or ElfRelocation.GlobalData when relocation.SymbolName is { Length: > 0 } name:
                target = new CallTarget(null, 0, name);
                return true;
            case ElfRelocation.Relative:
                return TryFunctionAt(module, (ulong)relocation.Addend, out target);
            default:
                return false; // IRELATIVE (an IFUNC resolved at load) and the rest: unknown
        }
    }

    /// <summary>
    /// The definition of <paramref name="name"/>: in <paramref name="caller"/>'s own module first (a library calling its
    /// own export through its PLT), then in the first module in address order (the executable first) that defines it.
    /// Interposition by another module is not modelled: the dynamic linker's search order is not known here.
    /// </summary>
    private bool TryFindDefinition(string name, SymbolizerModule caller, out CallTarget target)
    {
        foreach (SymbolizerModule module in Prepend(caller, _sites.Symbols.CodeModules()))
        {
            if (!module.TryFindExport(name, out ElfFunction function)) continue;
            target = new CallTarget(module, function.Value, name);
            return !function.IsIndirect;
        }
        target = default;
        return false;

        static IEnumerable<SymbolizerModule> Prepend(SymbolizerModule first, IEnumerable<SymbolizerModule> rest)
        {
            yield return first;
            foreach (SymbolizerModule module in rest) if (!ReferenceEquals(module, first)) yield return module;
        }
    }

    /// <summary>A call's target: <see cref="Module"/> is null for a name the dynamic linker binds, until it is looked up.</summary>
    private readonly record struct CallTarget(SymbolizerModule? Module, ulong VirtualAddress, string Name);
}
