using System;
using System.Collections.Generic;
using System.Linq;

namespace LeakTools.Export;

/// <summary>
/// One box of the flame graph: a frame reached by one particular path from the root, with the bytes and
/// allocations of every stack through it. Children are keyed by frame name, so equal paths merge.
/// </summary>
public sealed class FlameNode
{
    private readonly Dictionary<string, FlameNode> _children = new(StringComparer.Ordinal);

    private FlameNode(FlameFrameName frame, int depth)
    {
        Frame = frame;
        Depth = depth;
    }

    public FlameFrameName Frame { get; private set; }

    /// <summary>0 for the "all" root.</summary>
    public int Depth { get; }

    public long Bytes { get; private set; }

    public long Count { get; private set; }

    /// <summary>Children in flamegraph.pl's order: alphabetical, so equal input draws the same picture.</summary>
    public IEnumerable<FlameNode> Children => _children.Values.OrderBy(c => c.Frame.Name, StringComparer.Ordinal);

    public long WeightOf(FlameGraphWeight weight) => weight == FlameGraphWeight.Count ? Count : Bytes;

    public int MaxDepth => _children.Count == 0 ? Depth : _children.Values.Max(c => c.MaxDepth);

    /// <summary>The tree under an "all" root; samples of zero weight draw nothing and are left out.</summary>
    public static FlameNode Build(IEnumerable<StackSample> samples, FlameGraphWeight weight)
    {
        var root = new FlameNode(new FlameFrameName("all", null, FlameFrameKind.Process), 0);
        foreach (StackSample sample in samples)
        {
            if (sample.WeightOf(weight) <= 0) continue;
            FlameNode node = root;
            node.Add(sample);
            foreach (FlameFrameName frame in sample.Frames)
            {
                if (!node._children.TryGetValue(frame.Name, out FlameNode? child))
                {
                    child = new FlameNode(frame, node.Depth + 1);
                    node._children.Add(frame.Name, child);
                }
                else if (child.Frame.Module is null && frame.Module is not null)
                {
                    child.Frame = child.Frame with { Module = frame.Module };
                }
                child.Add(sample);
                node = child;
            }
        }
        return root;
    }

    private void Add(StackSample sample)
    {
        Bytes += sample.Bytes;
        Count += sample.Count;
    }
}
