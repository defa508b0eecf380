using LeakTools.Symbols;

namespace LeakTools.Stacks;

/// <summary>
/// A return address checked against the code before it: for <see cref="ReturnSiteKind.AfterCall"/>, the module, the
/// link-time address of the return address in it, and the call instruction that ends there.
/// </summary>
internal readonly record struct ReturnSite(ReturnSiteKind Kind, SymbolizerModule? Module, ulong VirtualAddress, CallInstruction Call);
