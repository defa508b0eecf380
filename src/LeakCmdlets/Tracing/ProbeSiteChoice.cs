namespace LeakTools.Tracing;

/// <summary>The result of <see cref="ProbeSiteSelector.Choose"/>: a displacement from the function's entry and why.</summary>
public readonly record struct ProbeSiteChoice(int Displacement, string EntryInstruction, string ChosenInstruction, bool Emulated, string Reason);
