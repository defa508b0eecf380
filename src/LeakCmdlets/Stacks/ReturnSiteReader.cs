using System;
using System.Collections.Generic;
using LeakTools.Symbols;

namespace LeakTools.Stacks;

/// <summary>
/// Checks return addresses of one process against its code: where each lies (the symbolizer's maps snapshot) and,
/// for module code, which call instruction ends there, decoded from the module file (not from the target's memory,
/// so it works after the target exits). Decoded calls are cached per (module, address): every stack that passes
/// through one call site costs one file read.
/// </summary>
internal sealed class ReturnSiteReader
{
    private readonly ProcessSymbolizer _symbols;
    private readonly object _gate = new();
    private readonly Dictionary<(SymbolizerModule Module, ulong Address), (ReturnSiteKind Kind, CallInstruction Call)> _calls = new();

    public ReturnSiteReader(ProcessSymbolizer symbols) => _symbols = symbols;

    public ProcessSymbolizer Symbols => _symbols;

    /// <summary>What <paramref name="returnAddress"/> is: a return address after a call, or why not.</summary>
    public ReturnSite Read(ulong returnAddress)
    {
        CodeLocation location = _symbols.Locate(returnAddress);
        switch (location.Kind)
        {
            case CodeLocationKind.Unmapped: return new ReturnSite(ReturnSiteKind.Unmapped, null, 0, default);
            case CodeLocationKind.NotExecutable: return new ReturnSite(ReturnSiteKind.NotExecutable, null, 0, default);
            case CodeLocationKind.UnreadableCode: return new ReturnSite(ReturnSiteKind.Unverifiable, null, 0, default);
        }
        SymbolizerModule module = location.Module!;
        (ReturnSiteKind Kind, CallInstruction Call) known;
        lock (_gate)
        {
            if (!_calls.TryGetValue((module, location.VirtualAddress), out known))
            {
                // The trampoline first: whatever the bytes before it decode as, it is the signal frame.
                if (IsSignalReturnTrampoline(module, location.VirtualAddress))
                    known = (ReturnSiteKind.SignalReturn, default);
                else if (TryDecodeCallBefore(module, location.VirtualAddress, out CallInstruction call, out bool readable))
                    known = (ReturnSiteKind.AfterCall, call);
                else if (readable)
                    known = (ReturnSiteKind.NotAfterCall, default);
                else
                    return new ReturnSite(ReturnSiteKind.Unverifiable, module, location.VirtualAddress, default);
                _calls[(module, location.VirtualAddress)] = known;
            }
        }
        return new ReturnSite(known.Kind, module, location.VirtualAddress, known.Call);
    }

    private static bool IsSignalReturnTrampoline(SymbolizerModule module, ulong virtualAddress)
    {
        Span<byte> code = stackalloc byte[X86CallDecoder.SignalReturnTrampolineLength];
        return module.TryReadCode(virtualAddress, code, out int count) && X86CallDecoder.IsSignalReturnTrampoline(code[..count]);
    }

    /// <summary>
    /// Reads the bytes before <paramref name="virtualAddress"/> and decodes the call that ends there.
    /// <paramref name="readable"/> is false when the bytes could not be read (then nothing is known).
    /// </summary>
    private static bool TryDecodeCallBefore(SymbolizerModule module, ulong virtualAddress, out CallInstruction call, out bool readable)
    {
        call = default;
        Span<byte> code = stackalloc byte[X86CallDecoder.MaxInstructionLength];
        int before = (int)Math.Min((ulong)code.Length, virtualAddress);
        // The start of the window may fall before the segment (a return address in the first bytes of .text):
        // shorter windows still decode the shorter calls.
        for (; before >= 2; before -= 4)
        {
            if (module.TryReadCode(virtualAddress - (ulong)before, code[..before], out int count) && count == before)
            {
                readable = true;
                return X86CallDecoder.TryDecodeCallBefore(code[..before], virtualAddress, out call);
            }
        }
        readable = false;
        return false;
    }
}
