using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace LeakTools.Symbols;

/// <summary>
/// Minimal /proc/PID/maps reader for symbolization only (address ranges, file offset, inode, path).
/// Deliberately private to Symbols; the full maps model belongs to Procfs.
/// </summary>
internal static class SymbolizerMapsReader
{
    private const string DeletedSuffix = " (deleted)";

    public static SymbolizerMapping[] Read(int pid) => Parse(File.ReadAllText($"/proc/{pid}/maps"));

    /// <summary>Parses maps text; lines that do not parse are skipped. The result is sorted by start address.</summary>
    public static SymbolizerMapping[] Parse(string text)
    {
        var result = new List<SymbolizerMapping>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (TryParseLine(line, out SymbolizerMapping mapping)) result.Add(mapping);
        }
        result.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return result.ToArray();
    }

    internal static bool TryParseLine(string line, out SymbolizerMapping mapping)
    {
        mapping = default;
        // "start-end perms offset dev inode   path"; the path may hold spaces, so split only the first five fields.
        ReadOnlySpan<char> rest = line.AsSpan();
        if (!NextField(ref rest, out ReadOnlySpan<char> range) || !NextField(ref rest, out ReadOnlySpan<char> perms)
            || !NextField(ref rest, out ReadOnlySpan<char> offset) || !NextField(ref rest, out ReadOnlySpan<char> device)
            || !NextField(ref rest, out ReadOnlySpan<char> inode))
            return false;
        int dash = range.IndexOf('-');
        if (dash <= 0
            || !ulong.TryParse(range[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
            || !ulong.TryParse(range[(dash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end)
            || !ulong.TryParse(offset, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong fileOffset)
            || !ulong.TryParse(inode, NumberStyles.None, CultureInfo.InvariantCulture, out ulong inodeNumber))
            return false;
        string path = rest.TrimStart(' ').ToString();
        bool deleted = path.EndsWith(DeletedSuffix, StringComparison.Ordinal) && path.StartsWith('/');
        if (deleted) path = path[..^DeletedSuffix.Length];
        // map_files names print the range unpadded ("400000-401000") where maps pads to 8 digits ("00400000-…").
        string mapFilesName = string.Create(CultureInfo.InvariantCulture, $"{start:x}-{end:x}");
        mapping = new SymbolizerMapping(start, end, perms.ToString(), fileOffset, device.ToString(), inodeNumber, path, deleted, mapFilesName);
        return true;
    }

    private static bool NextField(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> field)
    {
        rest = rest.TrimStart(' ');
        int space = rest.IndexOf(' ');
        if (space < 0)
        {
            field = rest;
            rest = ReadOnlySpan<char>.Empty;
            return field.Length > 0;
        }
        field = rest[..space];
        rest = rest[(space + 1)..];
        return true;
    }
}

/// <summary>One line of /proc/PID/maps as the symbolizer needs it. <see cref="Range"/> is the name of its /proc/PID/map_files entry ("start-end", unpadded hex).</summary>
internal readonly record struct SymbolizerMapping(
    ulong Start, ulong End, string Permissions, ulong Offset, string Device, ulong Inode, string Path, bool Deleted, string Range)
{
    /// <summary>Backed by a file (including deleted ones and memfd), as opposed to anonymous, [heap], [stack], [vdso].</summary>
    public bool IsFileBacked => Inode != 0 && Path.StartsWith('/');

    public bool IsExecutable => Permissions.Length >= 3 && Permissions[2] == 'x';
}
