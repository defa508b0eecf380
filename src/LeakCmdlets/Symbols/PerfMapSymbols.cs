using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace LeakTools.Symbols;

/// <summary>
/// Symbols a JIT publishes in /tmp/perf-PID.map: one "START SIZE name" line per compiled method, hex numbers.
/// Later lines win for the same start address (a method recompiled at a reused address).
/// </summary>
internal sealed class PerfMapSymbols
{
    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly string[] _names;

    private PerfMapSymbols(ulong[] starts, ulong[] ends, string[] names, string path)
    {
        _starts = starts;
        _ends = ends;
        _names = names;
        Path = path;
    }

    /// <summary>The map's path as the target process sees it (e.g. /tmp/perf-1.map inside a container).</summary>
    public string Path { get; }

    public int Count => _starts.Length;

    public static PerfMapSymbols Parse(TextReader reader, string path)
    {
        var byStart = new SortedDictionary<ulong, (ulong End, string Name)>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            ReadOnlySpan<char> rest = line.AsSpan().Trim();
            int first = rest.IndexOf(' ');
            if (first <= 0) continue;
            ReadOnlySpan<char> startText = StripHexPrefix(rest[..first]);
            rest = rest[(first + 1)..].TrimStart(' ');
            int second = rest.IndexOf(' ');
            if (second <= 0) continue;
            ReadOnlySpan<char> sizeText = StripHexPrefix(rest[..second]);
            string name = rest[(second + 1)..].Trim().ToString();
            if (name.Length == 0
                || !ulong.TryParse(startText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong size)
                || size == 0)
                continue;
            byStart[start] = (start + size, name);
        }
        var starts = new ulong[byStart.Count];
        var ends = new ulong[byStart.Count];
        var names = new string[byStart.Count];
        int i = 0;
        foreach ((ulong start, (ulong end, string name)) in byStart)
        {
            starts[i] = start;
            ends[i] = end;
            names[i] = name;
            i++;
        }
        return new PerfMapSymbols(starts, ends, names, path);
    }

    public bool TryFind(ulong address, out string name, out ulong offset)
    {
        int index = Array.BinarySearch(_starts, address);
        if (index < 0) index = ~index - 1;
        if (index >= 0 && address < _ends[index])
        {
            name = _names[index];
            offset = address - _starts[index];
            return true;
        }
        name = string.Empty;
        offset = 0;
        return false;
    }

    private static ReadOnlySpan<char> StripHexPrefix(ReadOnlySpan<char> text) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
}
