using System;
using System.Collections.Generic;
using System.Linq;
using LeakTools.Analysis;
using LeakTools.Model;

namespace LeakTools.Export;

/// <summary>
/// Turns MemoryLeak objects into a pprof heap profile: sample types inuse_objects/count and inuse_space/bytes
/// (what a heap profile calls memory still held), one sample per leak, labelled with its pid, process and host.
/// Frames become locations (address and mapping), functions (name, file) and lines. A frame without a symbol
/// gets a function named as the frame prints ("app+0x1234"), so every viewer shows a name.
/// </summary>
public sealed class PprofProfileBuilder
{
    public const string ObjectsType = "inuse_objects";
    public const string SpaceType = "inuse_space";

    private readonly PprofProfile _profile = new();
    private readonly Dictionary<string, long> _strings = new(StringComparer.Ordinal) { [""] = 0 };
    private readonly Dictionary<(string Host, int ProcessId, string File), PprofProfile.Mapping> _mappings = new();
    private readonly Dictionary<(ulong MappingId, ulong Address, ulong FunctionId, long Line), ulong> _locations = new();
    private readonly Dictionary<(long Name, long File), ulong> _functions = new();
    private readonly HashSet<ulong> _mainMappings = new();
    private DateTime? _firstStart, _lastEnd;

    public PprofProfileBuilder()
    {
        _profile.SampleTypes.Add(new PprofProfile.ValueType(String(ObjectsType), String("count")));
        _profile.SampleTypes.Add(new PprofProfile.ValueType(String(SpaceType), String("bytes")));
        _profile.DefaultSampleType = String(SpaceType);
        _profile.Comments.Add(String("LeakTools: memory allocated and not freed, per allocation stack (Find-MemoryLeak)"));
    }

    public int SampleCount => _profile.Samples.Count;

    public void Add(MemoryLeakInput input)
    {
        MemoryLeak leak = input.Leak;
        string host = input.ComputerName ?? "";
        var locationIds = new List<ulong>(leak.Stack.Length);
        foreach (StackFrame frame in leak.Stack)
        {
            locationIds.Add(Location(host, leak.ProcessId, leak.ProcessName, frame));
        }

        var labels = new List<PprofProfile.Label> { new(String("pid"), 0, leak.ProcessId) };
        if (!string.IsNullOrEmpty(leak.ProcessName)) labels.Add(new(String("process"), String(leak.ProcessName!), 0));
        if (host.Length > 0) labels.Add(new(String("host"), String(host), 0));
        _profile.Samples.Add(new PprofProfile.Sample(locationIds, new[] { ToInt64(leak.Count), ToInt64(leak.Bytes) }, labels));

        if (leak.Timestamp != default)
        {
            DateTime end = leak.Timestamp.ToUniversalTime();
            DateTime start = end - leak.TraceDuration;
            if (_firstStart is null || start < _firstStart) _firstStart = start;
            if (_lastEnd is null || end > _lastEnd) _lastEnd = end;
        }
    }

    public PprofProfile Build()
    {
        if (_firstStart is { } start && _lastEnd is { } end)
        {
            _profile.TimeNanos = (start - DateTime.UnixEpoch).Ticks * 100;
            _profile.DurationNanos = (end - start).Ticks * 100;
        }
        foreach (PprofProfile.Mapping mapping in _profile.Mappings)
        {
            if (mapping.MemoryStart > mapping.MemoryLimit) mapping.MemoryStart = 0; // no frame had an address
        }
        // pprof takes mapping[0] for the main binary: put first a mapping named like its process.
        int main = _profile.Mappings.FindIndex(m => _mainMappings.Contains(m.Id));
        if (main > 0)
        {
            PprofProfile.Mapping first = _profile.Mappings[main];
            _profile.Mappings.RemoveAt(main);
            _profile.Mappings.Insert(0, first);
        }
        return _profile;
    }

    private ulong Location(string host, int processId, string? processName, StackFrame frame)
    {
        PprofProfile.Mapping? mapping = Mapping(host, processId, processName, frame);
        string name = !string.IsNullOrEmpty(frame.Symbol) ? frame.Symbol!
            : !string.IsNullOrEmpty(frame.Module) ? $"{frame.Module}+0x{frame.ModuleOffset:x}"
            : $"0x{frame.Address:x}";
        long file = string.IsNullOrEmpty(frame.File) ? 0 : String(frame.File!);
        ulong functionId = Function(String(name), file);
        long line = frame.Line ?? 0;

        var key = (mapping?.Id ?? 0, frame.Address, functionId, line);
        if (_locations.TryGetValue(key, out ulong id)) return id;
        id = (ulong)_profile.Locations.Count + 1;
        _profile.Locations.Add(new PprofProfile.Location(id, key.Item1, frame.Address, new PprofProfile.Line(functionId, line)));
        _locations.Add(key, id);
        return id;
    }

    /// <summary>
    /// One mapping per module file of each process. The frames only say where they are in the file, so the
    /// range is the one that covers them: it starts where file offset 0 sits in memory.
    /// </summary>
    private PprofProfile.Mapping? Mapping(string host, int processId, string? processName, StackFrame frame)
    {
        string? file = frame.ModulePath ?? frame.Module;
        if (string.IsNullOrEmpty(file)) return null;
        if (!_mappings.TryGetValue((host, processId, file), out PprofProfile.Mapping? mapping))
        {
            mapping = new PprofProfile.Mapping { Id = (ulong)_profile.Mappings.Count + 1, Filename = String(file), MemoryStart = ulong.MaxValue };
            _profile.Mappings.Add(mapping);
            _mappings.Add((host, processId, file), mapping);
            if (!string.IsNullOrEmpty(processName) && frame.Module == processName) _mainMappings.Add(mapping.Id);
        }
        if (mapping.BuildId == 0 && !string.IsNullOrEmpty(frame.BuildId)) mapping.BuildId = String(frame.BuildId!);
        if (frame.Address != 0 && frame.ModuleOffset <= frame.Address)
        {
            mapping.MemoryStart = Math.Min(mapping.MemoryStart, frame.Address - frame.ModuleOffset);
            mapping.MemoryLimit = Math.Max(mapping.MemoryLimit, frame.Address + 1);
        }
        mapping.HasFunctions |= !string.IsNullOrEmpty(frame.Symbol);
        mapping.HasFilenames |= !string.IsNullOrEmpty(frame.File);
        mapping.HasLineNumbers |= frame.Line is > 0;
        return mapping;
    }

    private ulong Function(long name, long file)
    {
        if (_functions.TryGetValue((name, file), out ulong id)) return id;
        id = (ulong)_profile.Functions.Count + 1;
        // LeakTools keeps only the demangled name, so it is the system name too.
        _profile.Functions.Add(new PprofProfile.Function(id, name, name, file));
        _functions.Add((name, file), id);
        return id;
    }

    private long String(string value)
    {
        if (_strings.TryGetValue(value, out long index)) return index;
        index = _profile.StringTable.Count;
        _profile.StringTable.Add(value);
        _strings.Add(value, index);
        return index;
    }

    private static long ToInt64(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;
}
