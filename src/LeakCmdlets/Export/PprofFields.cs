namespace LeakTools.Export;

/// <summary>
/// Field numbers of the pprof messages, from the published schema: google/pprof proto/profile.proto
/// (package perftools.profiles; a copy is Export/profile.proto). Only the fields LeakTools writes.
/// </summary>
internal static class PprofFields
{
    /// <summary>message Profile.</summary>
    public static class Profile
    {
        public const int SampleType = 1;
        public const int Sample = 2;
        public const int Mapping = 3;
        public const int Location = 4;
        public const int Function = 5;
        public const int StringTable = 6;
        public const int TimeNanos = 9;
        public const int DurationNanos = 10;
        public const int Comment = 13;
        public const int DefaultSampleType = 14;
    }

    /// <summary>message ValueType.</summary>
    public static class ValueType
    {
        public const int Type = 1;
        public const int Unit = 2;
    }

    /// <summary>message Sample.</summary>
    public static class Sample
    {
        public const int LocationId = 1;
        public const int Value = 2;
        public const int Label = 3;
    }

    /// <summary>message Label.</summary>
    public static class Label
    {
        public const int Key = 1;
        public const int Str = 2;
        public const int Num = 3;
    }

    /// <summary>message Mapping.</summary>
    public static class Mapping
    {
        public const int Id = 1;
        public const int MemoryStart = 2;
        public const int MemoryLimit = 3;
        public const int FileOffset = 4;
        public const int Filename = 5;
        public const int BuildId = 6;
        public const int HasFunctions = 7;
        public const int HasFilenames = 8;
        public const int HasLineNumbers = 9;
    }

    /// <summary>message Location.</summary>
    public static class Location
    {
        public const int Id = 1;
        public const int MappingId = 2;
        public const int Address = 3;
        public const int Line = 4;
    }

    /// <summary>message Line.</summary>
    public static class Line
    {
        public const int FunctionId = 1;
        public const int LineNumber = 2;
    }

    /// <summary>message Function.</summary>
    public static class Function
    {
        public const int Id = 1;
        public const int Name = 2;
        public const int SystemName = 3;
        public const int Filename = 4;
    }
}
