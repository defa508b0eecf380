namespace LeakTools.Symbols;

/// <summary>A defined function symbol: its name as stored, its link-time virtual address and size in bytes.</summary>
public readonly record struct ElfFunction(string Name, ulong Value, ulong Size);
