using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using LeakTools.Procfs;

namespace LeakTools.Symbols;

/// <summary>
/// The mappings of /proc/PID/maps as the symbolizer and the tracer's library lookup need them, each line parsed by
/// <see cref="MapsLine"/>; lines it cannot parse are skipped. The full smaps model is Procfs.SmapsReader.
/// </summary>
internal static class SymbolizerMapsReader
{
    public static SymbolizerMapping[] Read(int pid) => Parse(File.ReadAllText(ProcessDirectory.PathOf(pid, "maps")));

    /// <summary>Parses maps text; lines that do not parse are skipped. The result is sorted by start address.</summary>
    public static SymbolizerMapping[] Parse(string text)
    {
        var result = new List<SymbolizerMapping>();
        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
        {
            if (MapsLine.TryParse(line, out MapsLine parsed, out _)) result.Add(ToMapping(parsed));
        }
        result.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return result.ToArray();
    }

    private static SymbolizerMapping ToMapping(MapsLine line) =>
        new(line.Start, line.End, line.Permissions.ToString(), line.Offset, line.Device.ToString(), line.Inode,
            line.PathWithoutDeleted.ToString(), line.IsDeleted,
            // map_files names print the range unpadded ("400000-401000") where maps pads to 8 digits ("00400000-…").
            string.Create(CultureInfo.InvariantCulture, $"{line.Start:x}-{line.End:x}"));
}

/// <summary>One line of /proc/PID/maps as the symbolizer needs it. <see cref="Range"/> is the name of its /proc/PID/map_files entry ("start-end", unpadded hex).</summary>
internal readonly record struct SymbolizerMapping(
    ulong Start, ulong End, string Permissions, ulong Offset, string Device, ulong Inode, string Path, bool Deleted, string Range)
{
    /// <summary>Backed by a file (including deleted ones and memfd), as opposed to anonymous, [heap], [stack], [vdso].</summary>
    public bool IsFileBacked => Inode != 0 && Path.StartsWith('/');

    public bool IsExecutable => Permissions.Length >= 3 && Permissions[2] == 'x';
}
