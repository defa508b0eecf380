namespace LeakTools.Tracing;

/// <summary>The result of <see cref="ProbeSiteSelector.Choose"/>: a displacement from the function's entry and why.</summary>
/// <param name="ArgumentMoves">
/// Where the arguments the probe reads are at the site, when some are no longer in their own registers: 4 bits per
/// argument, 0 for its own register, else 1 + its index in <see cref="ProbeSiteSelector.MovableRegisters"/>.
/// </param>
public readonly record struct ProbeSiteChoice(int Displacement, string EntryInstruction, string ChosenInstruction, bool Emulated, string Reason,
    uint ArgumentMoves = 0);
