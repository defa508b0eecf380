using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using LeakTools.Procfs;

namespace LeakTools.Symbols;

/// <summary>
/// Minimal /proc/PID/maps reader (address ranges, file offset, inode, path) for the symbolizer and the
/// tracer's library lookup; it skips lines it cannot parse. The full smaps model is Procfs.SmapsReader.
/// </summary>
internal static class SymbolizerMapsReader
{
    private const string DeletedSuffix = " (deleted)";

    public static SymbolizerMapping[] Read(int pid) => Parse(File.ReadAllText(ProcessDirectory.PathOf(pid, "maps")));

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
        ReadOnlySpan<char> range = ProcfsText.NextToken(ref rest);
        ReadOnlySpan<char> perms = ProcfsText.NextToken(ref rest);
        ReadOnlySpan<char> offset = ProcfsText.NextToken(ref rest);
        ReadOnlySpan<char> device = ProcfsText.NextToken(ref rest);
        ReadOnlySpan<char> inode = ProcfsText.NextToken(ref rest);
        int dash = range.IndexOf('-');
        if (dash <= 0 || perms.IsEmpty || device.IsEmpty
            || !ProcfsText.TryParseHex(range[..dash], out ulong start)
            || !ProcfsText.TryParseHex(range[(dash + 1)..], out ulong end)
            || !ProcfsText.TryParseHex(offset, out ulong fileOffset)
            || !ProcfsText.TryParseDecimal(inode, out ulong inodeNumber))
            return false;
        string path = rest.TrimStart(' ').ToString();
        bool deleted = path.EndsWith(DeletedSuffix, StringComparison.Ordinal) && path.StartsWith('/');
        if (deleted) path = path[..^DeletedSuffix.Length];
        // map_files names print the range unpadded ("400000-401000") where maps pads to 8 digits ("00400000-…").
        string mapFilesName = string.Create(CultureInfo.InvariantCulture, $"{start:x}-{end:x}");
        mapping = new SymbolizerMapping(start, end, perms.ToString(), fileOffset, device.ToString(), inodeNumber, path, deleted, mapFilesName);
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
