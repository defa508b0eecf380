using System.Collections.Generic;
using System.Globalization;
using System.Text;
using LeakTools.Model;

namespace LeakTools.Analysis;

/// <summary>
/// What makes two stacks the same one across runs and hosts. Addresses and "+0x" offsets differ with ASLR,
/// builds and hosts, so a named frame is its module file name and symbol; a frame without a symbol is its
/// module and the offset in that module's file, which stays put while the same binary is loaded anywhere.
/// Only a frame with neither falls back to its address.
/// </summary>
public static class StackKey
{
    public static string Of(IReadOnlyList<StackFrame> frames)
    {
        var key = new StringBuilder();
        foreach (StackFrame frame in frames)
        {
            if (key.Length > 0) key.Append('\n');
            key.Append(OfFrame(frame));
        }
        return key.ToString();
    }

    public static string OfFrame(StackFrame frame)
    {
        if (!string.IsNullOrEmpty(frame.Symbol)) return $"{frame.Module}!{frame.Symbol}";
        if (!string.IsNullOrEmpty(frame.Module)) return $"{frame.Module}+0x{frame.ModuleOffset.ToString("x", CultureInfo.InvariantCulture)}";
        return $"0x{frame.Address.ToString("x", CultureInfo.InvariantCulture)}";
    }
}
