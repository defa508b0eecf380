using System;
using LeakTools.Model;

namespace LeakTools.Bpf;

/// <summary>The loss column of MEMLEAK_STATS: the <see cref="TraceLoss"/> counter a stat counter adds to.</summary>
[AttributeUsage(AttributeTargets.Field)]
internal sealed class RollsIntoAttribute : Attribute
{
    public RollsIntoAttribute(TraceLossKind loss) => Loss = loss;

    public TraceLossKind Loss { get; }
}
