using System.Collections.Generic;
using LeakTools.Model;

namespace LeakTools.Analysis;

/// <summary>The one-line form of a stack that every output type carries next to its frames.</summary>
public static class StackFormatter
{
    public const string Separator = " ← ";

    /// <summary>"fibonacci+0x1c ← child+0x4a ← start_thread+0xf3".</summary>
    public static string Join(IEnumerable<StackFrame> frames) => string.Join(Separator, frames);
}
