namespace LeakTools.Symbols;

/// <summary>
/// A defined function symbol: its name as stored, its link-time virtual address and size in bytes.
/// <paramref name="IsIndirect"/>: an IFUNC, whose value is a resolver that picks the implementation at load time.
/// </summary>
public readonly record struct ElfFunction(string Name, ulong Value, ulong Size, bool IsIndirect = false);
