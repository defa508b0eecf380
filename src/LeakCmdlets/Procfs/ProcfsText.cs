using System;

namespace LeakTools.Procfs;

/// <summary>Span-level number and field parsing shared by the /proc parsers; no allocation.</summary>
internal static class ProcfsText
{
    public const long KiB = 1024;

    public static bool TryParseDecimal(ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 20) return false;
        foreach (char c in s)
        {
            uint digit = (uint)(c - '0');
            if (digit > 9) return false;
            ulong next = value * 10 + digit;
            if (next / 10 != value) return false; // overflow
            value = next;
        }
        return true;
    }

    public static bool TryParseDecimal(ReadOnlySpan<char> s, out long value)
    {
        bool negative = !s.IsEmpty && s[0] == '-';
        if (!TryParseDecimal(negative ? s[1..] : s, out ulong magnitude) || magnitude > long.MaxValue)
        {
            value = 0;
            return false;
        }
        value = negative ? -(long)magnitude : (long)magnitude;
        return true;
    }

    public static bool TryParseHex(ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 16) return false;
        foreach (char c in s)
        {
            uint digit;
            if ((uint)(c - '0') <= 9) digit = (uint)(c - '0');
            else if ((uint)(c - 'a') <= 5) digit = (uint)(c - 'a' + 10);
            else if ((uint)(c - 'A') <= 5) digit = (uint)(c - 'A' + 10);
            else return false;
            value = (value << 4) | digit;
        }
        return true;
    }

    /// <summary>Splits "Key:   value" at the first colon; the value comes back without surrounding blanks.</summary>
    public static bool TrySplitField(ReadOnlySpan<char> line, out ReadOnlySpan<char> key, out ReadOnlySpan<char> value)
    {
        int colon = line.IndexOf(':');
        if (colon <= 0)
        {
            key = value = default;
            return false;
        }
        key = line[..colon];
        value = line[(colon + 1)..].Trim(" \t");
        return true;
    }

    /// <summary>"1764 kB" in bytes; a value without unit is a plain number (a count or a byte value as printed).</summary>
    public static bool TryParseSize(ReadOnlySpan<char> value, out long result, out bool hadKiloBytes)
    {
        hadKiloBytes = false;
        int space = value.IndexOf(' ');
        ReadOnlySpan<char> digits = space < 0 ? value : value[..space];
        if (!TryParseDecimal(digits, out result)) return false;
        if (space < 0) return true;
        ReadOnlySpan<char> unit = value[(space + 1)..].TrimStart(' ');
        if (!unit.SequenceEqual("kB")) return false;
        if (result > long.MaxValue / KiB) return false;
        result *= KiB;
        hadKiloBytes = true;
        return true;
    }

    /// <summary>A size field whose unit must be kB (meminfo, status, smaps): the value in bytes, or a clear error.</summary>
    public static long ParseKiloBytes(ReadOnlySpan<char> value, string source, int lineNumber, ReadOnlySpan<char> line)
    {
        if (!TryParseSize(value, out long bytes, out bool hadUnit) || !hadUnit)
            throw new ProcfsFormatException(source, lineNumber, "expected a size such as \"1764 kB\"", line);
        return bytes;
    }

    public static ulong ParseUnsigned(ReadOnlySpan<char> value, string source, int lineNumber, ReadOnlySpan<char> line)
    {
        if (!TryParseDecimal(value, out ulong result))
            throw new ProcfsFormatException(source, lineNumber, "expected an unsigned number", line);
        return result;
    }

    /// <summary>Next blank-separated token of <paramref name="rest"/>, advancing past it.</summary>
    public static ReadOnlySpan<char> NextToken(scoped ref ReadOnlySpan<char> rest)
    {
        rest = rest.TrimStart(' ');
        int end = rest.IndexOf(' ');
        ReadOnlySpan<char> token = end < 0 ? rest : rest[..end];
        rest = end < 0 ? ReadOnlySpan<char>.Empty : rest[(end + 1)..];
        return token;
    }
}
