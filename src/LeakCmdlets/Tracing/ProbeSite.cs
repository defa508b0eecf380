namespace LeakTools.Tracing;

/// <summary>
/// Where one allocator function is probed: the symbol's entry and the instruction actually chosen
/// (the first one the kernel emulates on the entry path, so no single-step), with the reason.
/// Offsets are file offsets in <see cref="LibraryPath"/>.
/// </summary>
public sealed class ProbeSite
{
    public AllocatorFunction Function { get; set; }
    public string Symbol { get; set; } = "";
    /// <summary>
    /// What events call the function: its name, or the names of every traced function at the same code joined by '/'
    /// (glibc 2.36's "aligned_alloc/memalign"), since one probe cannot tell which name the caller used.
    /// </summary>
    public string Name { get; set; } = "";
    public string LibraryPath { get; set; } = "";
    /// <summary>Where the probe attaches: <see cref="LibraryPath"/> through the target's root or its map_files entry.</summary>
    internal string OpenPath { get; set; } = "";
    public ulong EntryOffset { get; set; }
    public ulong ChosenOffset { get; set; }
    public string EntryInstruction { get; set; } = "";
    public string ChosenInstruction { get; set; } = "";
    public bool Emulated { get; set; }
    /// <summary>
    /// Where the chosen site finds the arguments that moved out of their own registers (<see cref="ProbeSiteChoice.ArgumentMoves"/>;
    /// 0 when none did). The BPF programs read it from the attach cookie.
    /// </summary>
    public uint ArgumentMoves { get; set; }
    public bool HasReturnProbe { get; set; }
    public string Reason { get; set; } = "";

    public ulong Displacement => ChosenOffset - EntryOffset;

    public override string ToString()
        => $"{Symbol}+0x{Displacement:x} ({ChosenInstruction}): {Reason}";
}
