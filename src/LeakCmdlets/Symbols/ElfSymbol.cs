namespace LeakTools.Symbols;

/// <summary>
/// One decoded Elf64_Sym entry, as <see cref="RawSymbolTable.SymbolAt"/> reads it: the one place that knows the
/// entry's layout, for the lookup by name (<see cref="ElfImage.TryFindFunction"/>) and by address (<see cref="FunctionSymbolTable"/>).
/// </summary>
internal readonly record struct ElfSymbol(uint NameOffset, byte Type, bool IsLocal, ushort SectionIndex, ulong Value, ulong Size)
{
    /// <summary>A function (FUNC or IFUNC) defined in this file: in a section, at a nonzero address.</summary>
    public bool IsDefinedFunction =>
        (Type == ElfImage.SymbolTypeFunction || Type == ElfImage.SymbolTypeIndirectFunction) && SectionIndex != 0 && Value != 0;
}
