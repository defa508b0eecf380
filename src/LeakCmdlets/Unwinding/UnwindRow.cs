using System;

namespace LeakTools.Unwinding;

/// <summary>
/// One row of an unwind table: from <see cref="Address"/> (a virtual address of the module, as in its ELF file) up to
/// the next row, the caller's frame is found by <see cref="Kind"/>. Packed into 8 bytes for the BPF side
/// (struct unwind_row in native/memleak.h): address 32 bits, CFA offset 16, rbp's slot 8, kind 8.
/// </summary>
/// <param name="Address">First address the row covers.</param>
/// <param name="Kind">The CFA rule.</param>
/// <param name="CfaOffset">Bytes added to rsp or rbp (Rsp, Rbp kinds).</param>
/// <param name="RbpSlot">Where the caller's rbp was saved, in 8-byte slots from the CFA (e.g. -2 = CFA-16); 0 = not saved, rbp still holds it.</param>
public readonly record struct UnwindRow(uint Address, UnwindRowKind Kind, ushort CfaOffset, sbyte RbpSlot)
{
    /// <summary>The 8-byte form the BPF walk reads.</summary>
    public ulong Pack() => Address | (ulong)CfaOffset << 32 | (ulong)(byte)RbpSlot << 48 | (ulong)Kind << 56;

    public static UnwindRow Unpack(ulong packed) =>
        new((uint)packed, (UnwindRowKind)(packed >> 56), (ushort)(packed >> 32), (sbyte)(byte)(packed >> 48));

    /// <summary>True when both rows unwind the same way (adjacent such rows merge into one).</summary>
    public bool SameRule(UnwindRow other) => Kind == other.Kind && CfaOffset == other.CfaOffset && RbpSlot == other.RbpSlot;

    public override string ToString() => Kind switch
    {
        UnwindRowKind.Rsp or UnwindRowKind.Rbp => FormattableString.Invariant(
            $"0x{Address:x}: CFA={Kind.ToString().ToLowerInvariant()}+{CfaOffset}{(RbpSlot != 0 ? $" rbp@CFA{RbpSlot * 8}" : "")}"),
        _ => FormattableString.Invariant($"0x{Address:x}: {Kind}"),
    };
}
