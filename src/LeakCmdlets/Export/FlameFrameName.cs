namespace LeakTools.Export;

/// <summary>
/// A frame as the flame graph shows it. Frames merge by <see cref="Name"/>; the module is shown on hover.
/// </summary>
public readonly record struct FlameFrameName(string Name, string? Module, FlameFrameKind Kind)
{
    /// <summary>The process frame at the root of each stack, so several processes can share one graph.</summary>
    public static FlameFrameName Process(string name) => new(Sanitize(name), null, FlameFrameKind.Process);

    /// <summary>
    /// Folded stacks split frames on ';' and the weight on the last space, and one stack is one line:
    /// names must not carry ';' or line breaks.
    /// </summary>
    public static string Sanitize(string name) =>
        name.Replace(';', ':').Replace('\n', ' ').Replace('\r', ' ');
}
