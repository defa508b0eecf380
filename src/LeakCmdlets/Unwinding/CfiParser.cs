using System;
using System.Collections.Generic;
using System.IO;

namespace LeakTools.Unwinding;

/// <summary>
/// Parses DWARF call frame information (.eh_frame or .debug_frame) and evaluates each FDE's instructions into
/// x86-64 <see cref="UnwindRow"/>s: only what a walk needs (the CFA rule, where rbp was saved, whether the return
/// address is at CFA-8), so every other register's rule is read and dropped.
/// </summary>
/// <remarks>
/// Parsed here rather than through libdw's dwarf_cfi_addrframe: see "Unwind tables" in docs/engine.md for the
/// measurement. Malformed input throws <see cref="InvalidDataException"/> (the module then gets no table).
/// </remarks>
internal sealed class CfiParser
{
    private const int RegisterRbp = 6, RegisterRsp = 7, RegisterReturnAddress = 16;
    private const int MaxRememberedStates = 64;

    private readonly byte[] _section;
    private readonly ulong _sectionAddress;
    private readonly bool _debugFrame;
    private readonly Dictionary<int, Cie> _cies = new();
    private readonly Stack<FrameState> _remembered = new();   // DW_CFA_remember_state, reused from FDE to FDE

    /// <param name="section">The section's bytes.</param>
    /// <param name="sectionAddress">Its virtual address (pc-relative pointers of .eh_frame are relative to it).</param>
    /// <param name="debugFrame">.debug_frame (CIE id all ones, CIE pointers from the section start, absolute addresses) rather than .eh_frame.</param>
    public CfiParser(byte[] section, ulong sectionAddress, bool debugFrame)
    {
        _section = section;
        _sectionAddress = sectionAddress;
        _debugFrame = debugFrame;
    }

    /// <summary>Every FDE of the section, in section order, with its rows.</summary>
    public List<FdeRows> ParseAll()
    {
        var result = new List<FdeRows>();
        var cursor = new CfiCursor(_section);
        while (cursor.Remaining >= 4)
        {
            int start = cursor.Position;
            (int bodyStart, int end, bool is64) = ReadLength(ref cursor);
            if (end == bodyStart) break;   // zero terminator of .eh_frame
            ulong id = is64 ? cursor.U64() : cursor.U32();
            bool isCie = _debugFrame ? id == (is64 ? ulong.MaxValue : uint.MaxValue) : id == 0;
            if (!isCie) result.Add(ParseFde(start));
            cursor.Position = end;
        }
        return result;
    }

    /// <summary>The FDE at <paramref name="offset"/> (from .eh_frame_hdr's table).</summary>
    public FdeRows ParseFde(int offset)
    {
        if (offset < 0 || offset >= _section.Length) throw new InvalidDataException($"FDE offset {offset} lies outside the {_section.Length}-byte section.");
        var cursor = new CfiCursor(_section, offset);
        (int bodyStart, int end, bool is64) = ReadLength(ref cursor);
        int idPosition = cursor.Position;
        ulong id = is64 ? cursor.U64() : cursor.U32();
        int cieOffset;
        if (_debugFrame)
        {
            cieOffset = checked((int)id);
        }
        else
        {
            if (id == 0) throw new InvalidDataException($"The record at offset {offset} is a CIE, not an FDE.");
            cieOffset = checked(idPosition - (int)id);
        }
        Cie cie = CieAt(cieOffset);
        var body = new CfiCursor(_section.AsSpan(0, end), cursor.Position);
        ulong pcBegin, pcRange;
        if (_debugFrame)
        {
            pcBegin = body.U64();
            pcRange = body.U64();
        }
        else
        {
            pcBegin = body.Pointer(cie.FdeEncoding, _sectionAddress);
            pcRange = body.Range(cie.FdeEncoding);
        }
        if (cie.HasAugmentationData) body.Skip(body.Uleb());
        if (pcRange > uint.MaxValue || pcBegin + pcRange < pcBegin)
            throw new InvalidDataException($"FDE at offset {offset} covers an implausible range (0x{pcBegin:x} + 0x{pcRange:x}).");

        var rows = new List<UnwindRow>();
        var state = cie.Initial;
        _remembered.Clear();
        ulong location = pcBegin;
        Execute(ref body, ref state, cie, cie.Initial, _remembered, ref location, pcBegin, rows);
        Emit(rows, location, state, cie);
        return new FdeRows(pcBegin, pcBegin + pcRange, rows);
    }

    private static (int BodyStart, int End, bool Is64) ReadLength(ref CfiCursor cursor)
    {
        ulong length = cursor.U32();
        bool is64 = length == uint.MaxValue;
        if (is64) length = cursor.U64();
        int bodyStart = cursor.Position;
        if (length > (ulong)cursor.Remaining) throw new InvalidDataException($"A record at offset {bodyStart} claims {length} bytes, past the end of the section.");
        return (bodyStart, bodyStart + (int)length, is64);
    }

    private Cie CieAt(int offset)
    {
        if (_cies.TryGetValue(offset, out Cie? known)) return known;
        if (offset < 0 || offset >= _section.Length) throw new InvalidDataException($"CIE offset {offset} lies outside the {_section.Length}-byte section.");
        var cursor = new CfiCursor(_section, offset);
        (int _, int end, bool is64) = ReadLength(ref cursor);
        ulong id = is64 ? cursor.U64() : cursor.U32();
        if (_debugFrame ? id != (is64 ? ulong.MaxValue : uint.MaxValue) : id != 0)
            throw new InvalidDataException($"The record at offset {offset} that an FDE names as its CIE is not a CIE.");
        var body = new CfiCursor(_section.AsSpan(0, end), cursor.Position);
        byte version = body.U8();
        if (version is not (1 or 3 or 4)) throw new InvalidDataException($"CIE at offset {offset} has unknown version {version}.");
        string augmentation = body.CString();
        if (version == 4) body.Skip(2);   // address_size, segment_selector_size
        var cie = new Cie
        {
            CodeAlignment = body.Uleb(),
            DataAlignment = body.Sleb(),
        };
        cie.ReturnAddressRegister = version == 1 ? body.U8() : body.Uleb();
        if (augmentation.StartsWith('z'))
        {
            cie.HasAugmentationData = true;
            ulong length = body.Uleb();
            int dataEnd = body.Position + (int)Math.Min(length, (ulong)body.Remaining);
            foreach (char letter in augmentation.AsSpan(1))
            {
                switch (letter)
                {
                    case 'R': cie.FdeEncoding = body.U8(); break;
                    case 'L': body.U8(); break;
                    case 'P':
                        byte encoding = body.U8();
                        body.Pointer((byte)(encoding & 0x7f), _sectionAddress);
                        break;
                    case 'S': cie.IsSignalFrame = true; break;
                    default: break;   // 'B', 'G' and the like carry no data we need
                }
            }
            body.Position = dataEnd;
        }
        else if (augmentation.Length > 0 && augmentation != "eh")
        {
            throw new InvalidDataException($"CIE at offset {offset} has augmentation '{augmentation}', which cannot be skipped.");
        }
        var state = FrameState.Start;
        var location = 0UL;
        Execute(ref body, ref state, cie, FrameState.Start, null, ref location, 0, null);
        cie.Initial = state;
        _cies[offset] = cie;
        return cie;
    }

    /// <summary>Runs call frame instructions up to the end of <paramref name="cursor"/>, emitting a row before each advance.</summary>
    private static void Execute(ref CfiCursor cursor, ref FrameState state, Cie cie, FrameState initial, Stack<FrameState>? remembered,
        ref ulong location, ulong pcBegin, List<UnwindRow>? rows)
    {
        while (cursor.Remaining > 0)
        {
            byte op = cursor.U8();
            int operand = op & 0x3f;
            switch (op >> 6)
            {
                case 1: Advance(rows, ref location, (ulong)operand * cie.CodeAlignment, state, cie); continue;
                case 2: SetOffset(ref state, operand, (long)cursor.Uleb() * cie.DataAlignment); continue;
                case 3: Restore(ref state, initial, operand); continue;
            }
            switch (op)
            {
                case 0x00: break;                                            // nop
                case 0x01:                                                   // set_loc
                    ulong target = cursor.U64();
                    if (target < location) throw new InvalidDataException("DW_CFA_set_loc moves backwards.");
                    Advance(rows, ref location, target - location, state, cie);
                    break;
                case 0x02: Advance(rows, ref location, cursor.U8() * cie.CodeAlignment, state, cie); break;
                case 0x03: Advance(rows, ref location, cursor.U16() * cie.CodeAlignment, state, cie); break;
                case 0x04: Advance(rows, ref location, cursor.U32() * cie.CodeAlignment, state, cie); break;
                case 0x05: SetOffset(ref state, (int)cursor.Uleb(), (long)cursor.Uleb() * cie.DataAlignment); break;
                case 0x06: Restore(ref state, initial, (int)cursor.Uleb()); break;
                case 0x07: SetRule(ref state, (int)cursor.Uleb(), Rule.Undefined); break;
                case 0x08: SetRule(ref state, (int)cursor.Uleb(), Rule.Same); break;
                case 0x09: SetRule(ref state, (int)cursor.Uleb(), Rule.Other); cursor.Uleb(); break;   // register
                case 0x0a:                                                   // remember_state
                    if (remembered is null || remembered.Count >= MaxRememberedStates) throw new InvalidDataException("DW_CFA_remember_state nested too deep or in a CIE.");
                    remembered.Push(state);
                    break;
                case 0x0b:                                                   // restore_state
                    if (remembered is null || remembered.Count == 0) throw new InvalidDataException("DW_CFA_restore_state without a remembered state.");
                    state = remembered.Pop();
                    break;
                case 0x0c: state.CfaRegister = (int)cursor.Uleb(); state.CfaOffset = (long)cursor.Uleb(); state.CfaExpression = CfaExpression.None; break;
                case 0x0d: state.CfaRegister = (int)cursor.Uleb(); state.CfaExpression = CfaExpression.None; break;
                case 0x0e: state.CfaOffset = (long)cursor.Uleb(); break;
                case 0x0f:                                                   // def_cfa_expression
                    state.CfaExpression = IsPltExpression(cursor.Take(checked((int)cursor.Uleb()))) ? CfaExpression.Plt : CfaExpression.Other;
                    break;
                case 0x10:                                                   // expression
                    SetRule(ref state, (int)cursor.Uleb(), Rule.Other);
                    cursor.Skip(cursor.Uleb());
                    break;
                case 0x11: SetOffset(ref state, (int)cursor.Uleb(), cursor.Sleb() * cie.DataAlignment); break;
                case 0x12: state.CfaRegister = (int)cursor.Uleb(); state.CfaOffset = cursor.Sleb() * cie.DataAlignment; state.CfaExpression = CfaExpression.None; break;
                case 0x13: state.CfaOffset = cursor.Sleb() * cie.DataAlignment; break;
                case 0x14: SetRule(ref state, (int)cursor.Uleb(), Rule.Other); cursor.Uleb(); break;   // val_offset
                case 0x15: SetRule(ref state, (int)cursor.Uleb(), Rule.Other); cursor.Sleb(); break;   // val_offset_sf
                case 0x16:                                                   // val_expression
                    SetRule(ref state, (int)cursor.Uleb(), Rule.Other);
                    cursor.Skip(cursor.Uleb());
                    break;
                case 0x2e: cursor.Uleb(); break;                             // GNU_args_size
                case 0x2f: SetOffset(ref state, (int)cursor.Uleb(), -(long)cursor.Uleb() * cie.DataAlignment); break;
                default: throw new InvalidDataException($"Unknown call frame instruction 0x{op:x2}.");
            }
        }
    }

    private static void Advance(List<UnwindRow>? rows, ref ulong location, ulong delta, FrameState state, Cie cie)
    {
        if (rows is not null) Emit(rows, location, state, cie);
        location += delta;
    }

    /// <summary>Appends the row for <paramref name="state"/> at <paramref name="location"/>, replacing one at the same address.</summary>
    private static void Emit(List<UnwindRow> rows, ulong location, FrameState state, Cie cie)
    {
        if (location > uint.MaxValue) throw new InvalidDataException($"Address 0x{location:x} does not fit the 32-bit addresses of an unwind table.");
        var row = ToRow((uint)location, state, cie);
        if (rows.Count > 0 && rows[^1].Address == row.Address) rows[^1] = row;
        else rows.Add(row);
    }

    private static UnwindRow ToRow(uint address, FrameState state, Cie cie)
    {
        if (cie.IsSignalFrame) return new UnwindRow(address, UnwindRowKind.SignalFrame, 0, 0);
        if (state.ReturnAddress == Rule.Undefined) return new UnwindRow(address, UnwindRowKind.EndOfStack, 0, 0);
        if (cie.ReturnAddressRegister != RegisterReturnAddress || state.ReturnAddress != Rule.Offset || state.ReturnAddressOffset != -8)
            return Unknown(address);
        UnwindRowKind kind;
        if (state.CfaExpression == CfaExpression.Plt) kind = UnwindRowKind.Plt;
        else if (state.CfaExpression != CfaExpression.None) return Unknown(address);
        else if (state.CfaRegister == RegisterRsp) kind = UnwindRowKind.Rsp;
        else if (state.CfaRegister == RegisterRbp) kind = UnwindRowKind.Rbp;
        else return Unknown(address);
        if (kind != UnwindRowKind.Plt && (state.CfaOffset < 8 || state.CfaOffset > ushort.MaxValue)) return Unknown(address);
        sbyte rbpSlot = 0;
        if (state.Rbp == Rule.Offset)
        {
            // Saved below the CFA in an 8-byte slot, as every x86-64 compiler does; anything else we cannot follow.
            if (state.RbpOffset >= 0 || state.RbpOffset % 8 != 0 || state.RbpOffset < sbyte.MinValue * 8L) return Unknown(address);
            rbpSlot = (sbyte)(state.RbpOffset / 8);
        }
        else if (state.Rbp == Rule.Other)
        {
            return Unknown(address);
        }
        return new UnwindRow(address, kind, kind == UnwindRowKind.Plt ? (ushort)0 : (ushort)state.CfaOffset, rbpSlot);
    }

    private static UnwindRow Unknown(uint address) => new(address, UnwindRowKind.Unknown, 0, 0);

    /// <summary>
    /// The expression binutils writes for a 16-byte lazy PLT entry: rsp + 8 + ((rip &amp; 15) >= 11 ? 8 : 0), i.e.
    /// breg7 8; breg16 0; lit15; and; lit11 (or lit10); ge; lit3; shl; plus.
    /// </summary>
    private static bool IsPltExpression(ReadOnlySpan<byte> expression) =>
        expression.Length == 11 && expression[0] == 0x77 && expression[1] == 8 && expression[2] == 0x80 && expression[3] == 0
        && expression[4] == 0x3f && expression[5] == 0x1a && expression[6] is 0x3b or 0x3a && expression[7] == 0x2a
        && expression[8] == 0x33 && expression[9] == 0x24 && expression[10] == 0x22;

    private static void SetOffset(ref FrameState state, int register, long offset)
    {
        if (register == RegisterRbp) { state.Rbp = Rule.Offset; state.RbpOffset = offset; }
        else if (register == RegisterReturnAddress) { state.ReturnAddress = Rule.Offset; state.ReturnAddressOffset = offset; }
    }

    private static void SetRule(ref FrameState state, int register, Rule rule)
    {
        if (register == RegisterRbp) state.Rbp = rule;
        else if (register == RegisterReturnAddress) state.ReturnAddress = rule;
    }

    private static void Restore(ref FrameState state, FrameState initial, int register)
    {
        if (register == RegisterRbp) { state.Rbp = initial.Rbp; state.RbpOffset = initial.RbpOffset; }
        else if (register == RegisterReturnAddress) { state.ReturnAddress = initial.ReturnAddress; state.ReturnAddressOffset = initial.ReturnAddressOffset; }
    }

    private enum Rule : byte { Same, Undefined, Offset, Other }

    private enum CfaExpression : byte { None, Plt, Other }

    private struct FrameState
    {
        public static readonly FrameState Start = new() { CfaRegister = RegisterRsp, CfaOffset = 8, Rbp = Rule.Same, ReturnAddress = Rule.Same };

        public int CfaRegister;
        public long CfaOffset;
        public CfaExpression CfaExpression;
        public Rule Rbp;
        public long RbpOffset;
        public Rule ReturnAddress;
        public long ReturnAddressOffset;
    }

    private sealed class Cie
    {
        public ulong CodeAlignment;
        public long DataAlignment;
        public ulong ReturnAddressRegister;
        public bool HasAugmentationData;
        public byte FdeEncoding;   // DW_EH_PE_absptr unless 'R' says otherwise
        public bool IsSignalFrame;
        public FrameState Initial;
    }
}

/// <summary>The rows of one FDE: it covers [Start, End).</summary>
internal sealed record FdeRows(ulong Start, ulong End, List<UnwindRow> Rows);
