namespace LeakTools.Symbols;

/// <summary>Where a process's address lies: its kind, and for module code the module and its link-time address.</summary>
internal readonly record struct CodeLocation(CodeLocationKind Kind, SymbolizerModule? Module, ulong VirtualAddress);
