using System;

namespace LeakTools.Procfs;

/// <summary>
/// A /proc file did not have the shape its parser expects (malformed, truncated, or from a kernel that
/// changed the format). The message names the file and the offending line, so a user can report it.
/// </summary>
public sealed class ProcfsFormatException : FormatException
{
    public ProcfsFormatException(string source, int lineNumber, string problem, ReadOnlySpan<char> line)
        : base($"{source}, line {lineNumber}: {problem} (line: \"{Shorten(line)}\").")
    {
        Source = source;
        LineNumber = lineNumber;
    }

    public ProcfsFormatException(string source, string problem)
        : base($"{source}: {problem}.")
    {
        Source = source;
    }

    /// <summary>What the user can do about it; the same for every /proc file.</summary>
    public const string RecommendedAction =
        "The kernel printed a format LeakTools does not know; please report it with the file's content.";

    /// <summary>1-based line number, or 0 when the problem is not tied to one line.</summary>
    public int LineNumber { get; }

    private static string Shorten(ReadOnlySpan<char> line) =>
        line.Length <= 120 ? line.ToString() : string.Concat(line[..117], "...");
}
