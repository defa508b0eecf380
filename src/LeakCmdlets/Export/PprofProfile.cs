using System.Collections.Generic;

namespace LeakTools.Export;

/// <summary>
/// A pprof profile (perftools.profiles.Profile) as LeakTools fills it, before encoding. Strings are indexes into
/// <see cref="StringTable"/>, whose entry 0 is "", as the schema requires; ids start at 1 (0 means none).
/// </summary>
public sealed class PprofProfile
{
    public record ValueType(long Type, long Unit);

    public record Label(long Key, long Str, long Num);

    /// <summary>Location ids innermost (the allocation site) first; Values in the order of the sample types.</summary>
    public record Sample(IReadOnlyList<ulong> LocationIds, IReadOnlyList<long> Values, IReadOnlyList<Label> Labels);

    public sealed class Mapping
    {
        public ulong Id { get; init; }
        public ulong MemoryStart { get; set; }
        public ulong MemoryLimit { get; set; }
        public ulong FileOffset { get; set; }
        public long Filename { get; init; }
        public long BuildId { get; set; }
        public bool HasFunctions { get; set; }
        public bool HasFilenames { get; set; }
        public bool HasLineNumbers { get; set; }
    }

    public record Line(ulong FunctionId, long LineNumber);

    public record Location(ulong Id, ulong MappingId, ulong Address, Line Line);

    public record Function(ulong Id, long Name, long SystemName, long Filename);

    public List<ValueType> SampleTypes { get; } = new();
    public List<Sample> Samples { get; } = new();
    public List<Mapping> Mappings { get; } = new();
    public List<Location> Locations { get; } = new();
    public List<Function> Functions { get; } = new();
    public List<string> StringTable { get; } = new() { "" };
    public long TimeNanos { get; set; }
    public long DurationNanos { get; set; }
    public List<long> Comments { get; } = new();
    public long DefaultSampleType { get; set; }
}
