using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using LeakTools.Model;

namespace LeakTools.Procfs;

/// <summary>
/// Streams the mappings of /proc/PID/smaps (or /proc/PID/maps, which is the same without the field lines,
/// or smaps_rollup, which is one pseudo-mapping) one object at a time, parsing spans of a reused buffer.
/// </summary>
public sealed class SmapsReader
{
    private readonly LineReader _lines;
    private readonly string _source;
    private MemoryMapping? _next;

    // Consecutive mappings usually share a path, device and flags: reuse the last string instead of allocating.
    private string _lastPath = "";
    private string _lastDevice = "";
    private string _lastVmFlags = "";

    public SmapsReader(TextReader reader, string source)
    {
        _lines = new LineReader(reader);
        _source = source;
    }

    /// <summary>Process id and name stamped on every mapping read.</summary>
    public int ProcessId { get; set; }
    public string? ProcessName { get; set; }
    public DateTime Timestamp { get; set; } = DateTime.Now;

    public static List<MemoryMapping> ParseAll(string text, string source = "smaps")
    {
        var reader = new SmapsReader(new StringReader(text), source);
        var result = new List<MemoryMapping>();
        while (reader.TryReadNext(out MemoryMapping? mapping)) result.Add(mapping);
        return result;
    }

    /// <summary>The next mapping with all its fields; false at the end of the text.</summary>
    /// <exception cref="ProcfsFormatException">The text is malformed or truncated in the middle of a line.</exception>
    public bool TryReadNext([NotNullWhen(true)] out MemoryMapping? mapping)
    {
        MemoryMapping? current = _next;
        _next = null;
        while (_lines.TryReadLine(out ReadOnlySpan<char> line))
        {
            if (line.IsEmpty) continue;
            if (IsHeader(line))
            {
                MemoryMapping parsed = ParseHeader(line);
                if (current is null)
                {
                    current = parsed;
                    continue;
                }
                _next = parsed;
                break;
            }
            if (current is null)
                throw new ProcfsFormatException(_source, _lines.LineNumber, "a field line before any mapping line", line);
            ApplyField(current, line);
        }
        mapping = current;
        return current is not null;
    }

    // Mapping lines start with a lowercase hex address and a '-'; field names start with a capital letter.
    private static bool IsHeader(ReadOnlySpan<char> line)
    {
        char c = line[0];
        if (!((uint)(c - '0') <= 9 || (uint)(c - 'a') <= 5)) return false;
        int dash = line.IndexOf('-');
        int space = line.IndexOf(' ');
        return dash > 0 && (space < 0 || dash < space);
    }

    private MemoryMapping ParseHeader(ReadOnlySpan<char> line)
    {
        if (!MapsLine.TryParse(line, out MapsLine header, out string? problem)) throw Error(problem, line);
        ReadOnlySpan<char> path = header.Path;
        ReadOnlySpan<char> device = header.Device;
        if (!path.SequenceEqual(_lastPath)) _lastPath = path.ToString();
        if (!device.SequenceEqual(_lastDevice)) _lastDevice = device.ToString();
        return new MemoryMapping
        {
            ProcessId = ProcessId,
            ProcessName = ProcessName,
            Timestamp = Timestamp,
            Start = header.Start,
            End = header.End,
            Size = (long)(header.End - header.Start),
            Permissions = InternPermissions(header.Permissions),
            Offset = header.Offset,
            Device = _lastDevice,
            Inode = header.Inode,
            Path = _lastPath,
            Kind = MappingClassifier.Classify(header.PathWithoutDeleted),
            IsDeleted = header.IsDeleted,
        };
    }

    private void ApplyField(MemoryMapping m, ReadOnlySpan<char> line)
    {
        if (!ProcfsText.TrySplitField(line, out var key, out var value))
            throw Error("expected \"Name: value\"", line);
        switch (key)
        {
            case "Size": break; // the same as End - Start
            case "KernelPageSize": m.KernelPageSize = Kb(value, line); break;
            case "MMUPageSize": m.MmuPageSize = Kb(value, line); break;
            case "Rss": m.Rss = Kb(value, line); break;
            case "Pss": m.Pss = Kb(value, line); break;
            case "Pss_Dirty": m.PssDirty = Kb(value, line); break;
            case "Shared_Clean": m.SharedClean = Kb(value, line); break;
            case "Shared_Dirty": m.SharedDirty = Kb(value, line); break;
            case "Private_Clean": m.PrivateClean = Kb(value, line); break;
            case "Private_Dirty": m.PrivateDirty = Kb(value, line); break;
            case "Referenced": m.Referenced = Kb(value, line); break;
            case "Anonymous": m.Anonymous = Kb(value, line); break;
            case "KSM": m.Ksm = Kb(value, line); break;
            case "LazyFree": m.LazyFree = Kb(value, line); break;
            case "AnonHugePages": m.AnonHugePages = Kb(value, line); break;
            case "ShmemPmdMapped": m.ShmemPmdMapped = Kb(value, line); break;
            case "FilePmdMapped": m.FilePmdMapped = Kb(value, line); break;
            case "Shared_Hugetlb": m.SharedHugetlb = Kb(value, line); break;
            case "Private_Hugetlb": m.PrivateHugetlb = Kb(value, line); break;
            case "Swap": m.Swap = Kb(value, line); break;
            case "SwapPss": m.SwapPss = Kb(value, line); break;
            case "Locked": m.Locked = Kb(value, line); break;
            case "THPeligible": m.ThpEligible = ProcfsText.ParseUnsigned(value, _source, _lines.LineNumber, line) != 0; break;
            case "ProtectionKey": m.ProtectionKey = (int)ProcfsText.ParseUnsigned(value, _source, _lines.LineNumber, line); break;
            case "VmFlags":
                if (!value.SequenceEqual(_lastVmFlags)) _lastVmFlags = value.ToString();
                m.VmFlags = _lastVmFlags;
                break;
            default:
                m.OtherFields[key.ToString()] = ProcfsText.TryParseSize(value, out long number, out _) ? number : value.ToString();
                break;
        }
    }

    private long Kb(ReadOnlySpan<char> value, ReadOnlySpan<char> line) =>
        ProcfsText.ParseKiloBytes(value, _source, _lines.LineNumber, line);

    private ProcfsFormatException Error(string problem, ReadOnlySpan<char> line) =>
        new(_source, _lines.LineNumber, problem, line);

    private static string InternPermissions(ReadOnlySpan<char> perms) => perms switch
    {
        "r--p" => "r--p",
        "r-xp" => "r-xp",
        "rw-p" => "rw-p",
        "---p" => "---p",
        "rwxp" => "rwxp",
        "--xp" => "--xp",
        "r--s" => "r--s",
        "rw-s" => "rw-s",
        _ => perms.ToString(),
    };
}
