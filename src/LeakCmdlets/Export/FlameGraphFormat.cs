namespace LeakTools.Export;

/// <summary>What Export-FlameGraph writes.</summary>
public enum FlameGraphFormat
{
    /// <summary>A self-contained interactive SVG (hover, click to zoom, search).</summary>
    Svg,

    /// <summary>Folded stacks, one "outer;...;inner weight" line per stack, for flamegraph.pl and speedscope.</summary>
    Folded,
}
