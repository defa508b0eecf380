using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace LeakTools.Export;

/// <summary>
/// Brendan Gregg's folded-stack format: "outer;...;inner weight" per line, equal stacks summed,
/// lines sorted. flamegraph.pl, inferno and speedscope read it.
/// </summary>
public static class FoldedStackWriter
{
    public static IReadOnlyList<string> Fold(IEnumerable<StackSample> samples, FlameGraphWeight weight)
    {
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (StackSample sample in samples)
        {
            long value = sample.WeightOf(weight);
            if (value <= 0) continue;
            string key = string.Join(";", sample.Frames.Select(f => f.Name));
            totals[key] = totals.GetValueOrDefault(key) + value;
        }
        return totals.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}").ToList();
    }

    public static void Write(TextWriter writer, IEnumerable<StackSample> samples, FlameGraphWeight weight)
    {
        foreach (string line in Fold(samples, weight))
        {
            writer.Write(line);
            writer.Write('\n');
        }
    }
}
