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
    private readonly Dictionary<(SymbolizerModule Module, ulong Address), CallInstruction?> _calls = new();

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
        CallInstruction? call;
        lock (_gate)
        {
            if (!_calls.TryGetValue((module, location.VirtualAddress), out call))
            {
                if (!TryDecodeCallBefore(module, location.VirtualAddress, out call, out bool readable))
                {
                    if (!readable) return new ReturnSite(ReturnSiteKind.Unverifiable, module, location.VirtualAddress, default);
                }
                _calls[(module, location.VirtualAddress)] = call;
            }
        }
        return call is { } found
            ? new ReturnSite(ReturnSiteKind.AfterCall, module, location.VirtualAddress, found)
            : new ReturnSite(ReturnSiteKind.NotAfterCall, module, location.VirtualAddress, default);
    }

    /// <summary>
    /// Reads the bytes before <paramref name="virtualAddress"/> and decodes the call that ends there.
    /// <paramref name="readable"/> is false when the bytes could not be read (then nothing is known).
    /// </summary>
    private static bool TryDecodeCallBefore(SymbolizerModule module, ulong virtualAddress, out CallInstruction? call, out bool readable)
    {
        call = null;
        Span<byte> code = stackalloc byte[X86CallDecoder.MaxInstructionLength];
        int before = (int)Math.Min((ulong)code.Length, virtualAddress);
        // The start of the window may fall before the segment (a return address in the first bytes of .text):
        // shorter windows still decode the shorter calls.
        for (; before >= 2; before -= 4)
        {
            if (module.TryReadCode(virtualAddress - (ulong)before, code[..before], out int count) && count == before)
            {
                readable = true;
                if (!X86CallDecoder.TryDecodeCallBefore(code[..before], virtualAddress, out CallInstruction decoded)) return false;
                call = decoded;
                return true;
            }
        }
        readable = false;
        return false;
    }
}
