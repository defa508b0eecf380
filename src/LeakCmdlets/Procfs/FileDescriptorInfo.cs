using System;

namespace LeakTools.Procfs;

/// <summary>/proc/PID/fdinfo/FD: "pos:", "flags:" (the open flags in octal, O_CLOEXEC included), "mnt_id:", …</summary>
public static class FileDescriptorInfo
{
    /// <summary>The open flags of the "flags:" line, or null when there is none or it is not an octal number.</summary>
    public static int? ParseFlags(ReadOnlySpan<char> fdinfo)
    {
        foreach (ReadOnlySpan<char> line in fdinfo.EnumerateLines())
        {
            if (!ProcfsText.TrySplitField(line, out var key, out var value) || !key.SequenceEqual("flags")) continue;
            return TryParseOctal(value, out int flags) ? flags : null;
        }
        return null;
    }

    private static bool TryParseOctal(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 11) return false;
        long result = 0;
        foreach (char c in s)
        {
            uint digit = (uint)(c - '0');
            if (digit > 7) return false;
            result = (result << 3) | digit;
        }
        if (result > uint.MaxValue) return false;
        value = unchecked((int)(uint)result);
        return true;
    }
}
