namespace LeakTools.Symbols;

/// <summary>What a process's address holds, as its maps snapshot says.</summary>
internal enum CodeLocationKind
{
    /// <summary>No mapping holds it (or it is no canonical user address at all).</summary>
    Unmapped,

    /// <summary>A mapping that is not executable: stack, heap, data.</summary>
    NotExecutable,

    /// <summary>Executable memory without an ELF file to read: JIT code, [vdso], a module that could not be opened.</summary>
    UnreadableCode,

    /// <summary>Executable code of an opened ELF module: <see cref="CodeLocation.Module"/> at <see cref="CodeLocation.VirtualAddress"/>.</summary>
    ModuleCode,
}
