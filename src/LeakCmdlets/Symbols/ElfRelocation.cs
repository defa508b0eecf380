namespace LeakTools.Symbols;

/// <summary>
/// One dynamic relocation (Elf64_Rela) as <see cref="ElfImage.ReadDynamicRelocations"/> reads it: the link-time
/// address it writes (<paramref name="Offset"/>, a GOT slot for the types that matter here), its x86-64 type, the
/// name of its symbol (null for none) and its addend.
/// </summary>
internal readonly record struct ElfRelocation(ulong Offset, uint Type, string? SymbolName, long Addend)
{
    /// <summary>R_X86_64_GLOB_DAT: the slot holds the address of <see cref="SymbolName"/> (a call through the GOT, -fno-plt).</summary>
    public const uint GlobalData = 6;

    /// <summary>R_X86_64_JUMP_SLOT: a PLT entry's slot, bound to <see cref="SymbolName"/>.</summary>
    public const uint JumpSlot = 7;

    /// <summary>R_X86_64_RELATIVE: the slot holds load bias + <see cref="Addend"/>, an address in this module.</summary>
    public const uint Relative = 8;
}
