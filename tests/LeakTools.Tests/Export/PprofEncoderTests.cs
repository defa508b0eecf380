using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using LeakTools.Analysis;
using LeakTools.Export;
using LeakTools.Model;
using StackFrame = LeakTools.Model.StackFrame;
using Xunit;

namespace LeakTools.Tests.Export;

public class PprofEncoderTests
{
    private static readonly DateTime Report = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    private static StackFrame Frame(string? symbol, string module, ulong moduleOffset, string? file = null, int? line = null, string? buildId = "1a2b3c") =>
        new() { Symbol = symbol, Module = module, ModulePath = $"/opt/{module}", ModuleOffset = moduleOffset, Address = 0x5555_0000_0000 + moduleOffset, File = file, Line = line, BuildId = buildId };

    private static MemoryLeak Leak(ulong bytes, ulong count, params StackFrame[] stack) => new()
    {
        ProcessId = 4242, ProcessName = "app", Bytes = bytes, Count = count, Stack = stack,
        Timestamp = Report, TraceDuration = TimeSpan.FromSeconds(10),
    };

    private static PprofProfile TwoLeaks()
    {
        var builder = new PprofProfileBuilder();
        builder.Add(new MemoryLeakInput(Leak(8192, 8, Frame("leak", "app", 0x1100, "leak.c", 12), Frame("main", "app", 0x1200, "main.c", 30))));
        builder.Add(new MemoryLeakInput(Leak(1000, 1, Frame(null, "libx.so", 0x2100, buildId: null), Frame("main", "app", 0x1200, "main.c", 30))));
        return builder.Build();
    }

    private static string S(PprofProfile profile, long index) => profile.StringTable[(int)index];

    [Fact]
    public void HasTheHeapSampleTypesAndOneSamplePerLeak()
    {
        PprofProfile profile = TwoLeaks();
        Assert.Equal("", profile.StringTable[0]);
        Assert.Equal(new[] { ("inuse_objects", "count"), ("inuse_space", "bytes") }, profile.SampleTypes.Select(t => (S(profile, t.Type), S(profile, t.Unit))));
        Assert.Equal("inuse_space", S(profile, profile.DefaultSampleType));
        Assert.Equal(new[] { new long[] { 8, 8192 }, new long[] { 1, 1000 } }, profile.Samples.Select(s => s.Values.ToArray()));
        Assert.Equal(profile.StringTable.Count, profile.StringTable.Distinct().Count());
        Assert.Equal((Report.AddSeconds(-10) - DateTime.UnixEpoch).Ticks * 100, profile.TimeNanos);
        Assert.Equal(10_000_000_000L, profile.DurationNanos);
    }

    [Fact]
    public void SharesLocationsAndFunctionsAndNamesUnsymbolizedFramesByModuleOffset()
    {
        PprofProfile profile = TwoLeaks();
        Assert.Equal(3, profile.Locations.Count);  // main is one location in both samples
        Assert.Equal(profile.Samples[0].LocationIds[1], profile.Samples[1].LocationIds[1]);

        PprofProfile.Location leaf = profile.Locations.Single(l => l.Id == profile.Samples[0].LocationIds[0]);
        Assert.Equal(0x5555_0000_1100UL, leaf.Address);
        Assert.Equal(12, leaf.Line.LineNumber);
        PprofProfile.Function leak = profile.Functions.Single(f => f.Id == leaf.Line.FunctionId);
        Assert.Equal(("leak", "leak.c"), (S(profile, leak.Name), S(profile, leak.Filename)));

        PprofProfile.Location unnamed = profile.Locations.Single(l => l.Id == profile.Samples[1].LocationIds[0]);
        Assert.Equal("libx.so+0x2100", S(profile, profile.Functions.Single(f => f.Id == unnamed.Line.FunctionId).Name));
    }

    [Fact]
    public void GivesEachModuleOfAProcessAMappingWithItsBuildIdAndRange()
    {
        PprofProfile profile = TwoLeaks();
        Assert.Equal(2, profile.Mappings.Count);
        PprofProfile.Mapping app = profile.Mappings[0];
        Assert.Equal("/opt/app", S(profile, app.Filename));
        Assert.Equal("1a2b3c", S(profile, app.BuildId));
        Assert.Equal((0x5555_0000_0000UL, 0x5555_0000_1201UL), (app.MemoryStart, app.MemoryLimit));
        Assert.True(app.HasFunctions && app.HasFilenames && app.HasLineNumbers);
        PprofProfile.Mapping libx = profile.Mappings[1];
        Assert.Equal("/opt/libx.so", S(profile, libx.Filename));
        Assert.Equal(0, libx.BuildId);
        Assert.False(libx.HasFunctions);
        Assert.Equal(libx.Id, profile.Locations.Single(l => l.Id == profile.Samples[1].LocationIds[0]).MappingId);
    }

    [Fact]
    public void KeepsTheProcessesOfTwoHostsApartAndLabelsSamples()
    {
        var builder = new PprofProfileBuilder();
        MemoryLeak leak = Leak(100, 1, Frame("leak", "app", 0x1100));
        builder.Add(new MemoryLeakInput(leak, "hosta"));
        builder.Add(new MemoryLeakInput(leak, "hostb"));
        PprofProfile profile = builder.Build();

        // The same pid and addresses on two hosts are two address spaces.
        Assert.Equal(2, profile.Mappings.Count);
        Assert.Equal(2, profile.Locations.Count);
        Assert.Single(profile.Functions);
        string Labels(PprofProfile.Sample sample) => string.Join(",", sample.Labels.Select(l => $"{S(profile, l.Key)}={(l.Str != 0 ? S(profile, l.Str) : l.Num)}"));
        Assert.Equal(new[] { "pid=4242,process=app,host=hosta", "pid=4242,process=app,host=hostb" }, profile.Samples.Select(Labels));
    }

    [Fact]
    public void GzipsTheEncodedProfile()
    {
        PprofProfile profile = TwoLeaks();
        using var file = new MemoryStream();
        PprofEncoder.Write(file, profile);
        using var gzip = new GZipStream(new MemoryStream(file.ToArray()), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        Assert.Equal(PprofEncoder.Encode(profile), plain.ToArray());
    }

    /// <summary>protoc reads the bytes with the published schema: field numbers and wire types agree with it.</summary>
    [Fact]
    public void ProtocDecodesItWithThePublishedSchema()
    {
        string text = ProtocDecode(PprofEncoder.Encode(TwoLeaks()));
        Assert.Contains("sample_type {\n  type: 1\n  unit: 2\n}", text);
        Assert.Contains("sample {\n  location_id: 1\n  location_id: 2\n  value: 8\n  value: 8192\n", text);
        Assert.Contains("string_table: \"inuse_space\"", text);
        Assert.Contains("build_id: ", text);
        Assert.Contains("memory_start: 93823560581120\n", text);  // 0x5555_0000_0000
        Assert.Contains("function {\n  id: 1\n", text);
        Assert.Contains("  line {\n    function_id: 1\n    line: 12\n  }", text);
        Assert.Contains("label {\n    key: ", text);
        Assert.Contains("default_sample_type: ", text);
    }

    private static string ProtocDecode(byte[] message)
    {
        string schemaDir = Path.Combine(SourceDirectory(), "Export");
        var start = new ProcessStartInfo("protoc", new[] { "--decode", "perftools.profiles.Profile", "-I", schemaDir, "profile.proto" })
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using Process protoc = Process.Start(start)!;
        protoc.StandardInput.BaseStream.Write(message);
        protoc.StandardInput.Close();
        string output = protoc.StandardOutput.ReadToEnd();
        string error = protoc.StandardError.ReadToEnd();
        protoc.WaitForExit();
        Assert.True(protoc.ExitCode == 0, $"protoc failed: {error}");
        return output;
    }

    private static string SourceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "src", "LeakCmdlets");
            if (Directory.Exists(path)) return path;
        }
        throw new DirectoryNotFoundException("src/LeakCmdlets not found above the test directory.");
    }
}
