using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using LeakTools.Procfs;
using LeakTools.Symbols;
using Xunit;
using ProcSamples = LeakTools.Tests.Procfs.Samples;
using ElfSamples = LeakTools.Tests.Symbols.ElfSamples;

namespace LeakTools.Tests.Fuzz;

/// <summary>
/// Every recorded sample, mutated thousands of times (seeded, so a failure replays), through its parser:
/// the only outcomes allowed are a result or the exception the parser documents for bad input. The /proc
/// parsers document <see cref="ProcfsFormatException"/>; the symbolizer's maps, kallsyms and perf map readers
/// and the DWARF line table skip what they cannot read and throw nothing; ELF images document
/// <see cref="InvalidDataException"/>. Each input must finish within seconds and allocate a bounded amount.
/// </summary>
public class MutationTests
{
    // Sized for well under 60 s in CI; LEAKTOOLS_MUTATION_FACTOR multiplies them for a longer manual run.
    private static readonly int Factor = int.TryParse(Environment.GetEnvironmentVariable("LEAKTOOLS_MUTATION_FACTOR"), out int f) && f > 0 ? f : 1;
    private static readonly int TextMutants = 2000 * Factor;
    private static readonly int LargeTextMutants = 800 * Factor;   // smaps of a whole process: 30 KB each
    private static readonly int BinaryMutants = 1500 * Factor;

    /// <summary>Sample, parser, seed. The seeds are fixed so CI runs the same inputs every time.</summary>
    public static TheoryData<string, string, int> ProcfsSamples => new()
    {
        { "sleep/stat", "stat", 1 },
        { "odd/stat", "stat", 2 },
        { "odd/stat-paren-in-name", "stat", 3 },
        { "kthread/stat", "stat", 4 },
        { "sleep/status", "status", 5 },
        { "odd/status", "status", 6 },
        { "kthread/status", "status", 7 },
        { "sleep/statm", "statm", 8 },
        { "system/meminfo", "meminfo", 9 },
        { "system/stat", "kernelstat", 10 },
        { "system/vmstat", "vmstat", 11 },
        { "sleep/maps", "smaps", 12 },
        { "sleep/smaps", "smaps", 13 },
        { "sleep/smaps-special", "smaps", 14 },
        { "sleep/smaps_rollup", "smaps", 15 },
        { "odd/smaps", "smaps", 16 },
    };

    [Theory]
    [MemberData(nameof(ProcfsSamples))]
    public void ProcfsParsersReturnOrThrowProcfsFormatException(string sample, string parser, int seed)
    {
        Action<string> parse = parser switch
        {
            "stat" => text => ProcessStat.Parse(text, 4096),
            "status" => text => ProcessStatus.Parse(text),
            "statm" => text => ProcessStatm.Parse(text, 4096),
            "meminfo" => text => MemInfo.Parse(text),
            "kernelstat" => text => KernelStat.Parse(text),
            "vmstat" => text => VirtualMemoryCounters.Parse(text),
            "smaps" => text => SmapsReader.ParseAll(text),
            _ => throw new ArgumentOutOfRangeException(nameof(parser), parser, null),
        };
        byte[] original = File.ReadAllBytes(ProcSamples.PathOf(sample));
        parse(Encoding.UTF8.GetString(original)); // the pristine sample parses

        MutationRunner.Run(sample, original, original.Length > 8192 ? LargeTextMutants : TextMutants, seed,
            input => parse(Encoding.UTF8.GetString(input)),
            e => e is ProcfsFormatException,
            TextAllocationCap(original));
    }

    [Theory]
    [InlineData("sleep/maps", 21)]
    [InlineData("odd/maps", 22)]
    [InlineData("symbols/maps-deleted-binary.txt", 23)]
    public void SymbolizerMapsReaderSkipsWhatItCannotRead(string sample, int seed)
    {
        byte[] original = File.ReadAllBytes(ProcSamples.PathOf(sample));
        Assert.NotEmpty(SymbolizerMapsReader.Parse(Encoding.UTF8.GetString(original)));

        MutationRunner.Run(sample, original, TextMutants, seed,
            input => SymbolizerMapsReader.Parse(Encoding.UTF8.GetString(input)),
            _ => false,
            TextAllocationCap(original));
    }

    [Fact]
    public void KallsymsParserSkipsWhatItCannotRead()
    {
        const string sample = "symbols/kallsyms-excerpt.txt";
        byte[] original = File.ReadAllBytes(ProcSamples.PathOf(sample));
        KernelSymbolizer pristine = KernelSymbolizer.Parse(new StringReader(Encoding.UTF8.GetString(original)));
        Assert.True(pristine.Count > 0);
        ulong[] addresses = KallsymsAddresses(original);

        MutationRunner.Run(sample, original, TextMutants, 31,
            input => KernelSymbolizer.Parse(new StringReader(Encoding.UTF8.GetString(input))).SymbolizeStack(addresses),
            _ => false,
            TextAllocationCap(original));
    }

    [Fact]
    public void PerfMapParserSkipsWhatItCannotRead()
    {
        // Written by the traced process itself (its JIT), so as untrusted as input gets.
        const string sample = "symbols/perf-map-excerpt.txt";
        byte[] original = File.ReadAllBytes(ProcSamples.PathOf(sample));
        PerfMapSymbols pristine = PerfMapSymbols.Parse(new StringReader(Encoding.UTF8.GetString(original)), "/tmp/perf-1.map");
        Assert.True(pristine.Count > 0);
        ulong[] addresses = Encoding.UTF8.GetString(original).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => Convert.ToUInt64(line[..line.IndexOf(' ')], 16) + 1).ToArray();

        MutationRunner.Run(sample, original, TextMutants, 32,
            input =>
            {
                PerfMapSymbols symbols = PerfMapSymbols.Parse(new StringReader(Encoding.UTF8.GetString(input)), "/tmp/perf-1.map");
                foreach (ulong address in addresses) symbols.TryFind(address, out _, out _);
            },
            _ => false,
            TextAllocationCap(original));
    }

    [Theory]
    [InlineData("sample-pie", 41)]
    [InlineData("libsample.so", 42)]
    [InlineData("sample-stripped.debug", 43)]
    public void ElfImageReturnsOrThrowsInvalidDataException(string sample, int seed)
    {
        byte[] original = File.ReadAllBytes(ElfSamples.PathOf(sample));
        string path = Path.Combine(Path.GetTempPath(), $"leaktools-mutant-{Environment.ProcessId}-{sample}");
        try
        {
            ReadElf(original, path); // the pristine sample reads
            MutationRunner.Run(sample, original, BinaryMutants, seed,
                input => ReadElf(input, path),
                e => e is InvalidDataException,
                // Headers, tables and strings are read whole: a few times the file, never what a header claims.
                16L * original.Length + (1 << 20),
                ElfStructure(original));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>What is mutated: a section of a sample binary, or a raw .debug_line dumped from one.</summary>
    [Theory]
    [InlineData("sample-pie", ".debug_line", 51)]
    [InlineData("sample-pie", ".debug_line_str", 52)]
    [InlineData("sample-dwarf4.debug_line", null, 53)]
    public void DwarfLineTableKeepsWhatItReadBeforeBadInput(string sample, string? section, int seed)
    {
        byte[] debugLine, lineStrings = Array.Empty<byte>(), strings = Array.Empty<byte>();
        if (section is null)
        {
            debugLine = File.ReadAllBytes(ElfSamples.PathOf(sample));
        }
        else
        {
            using ElfImage image = ElfImage.Open(ElfSamples.PathOf(sample));
            debugLine = image.ReadSectionContents(".debug_line")!;
            lineStrings = image.ReadSectionContents(".debug_line_str")!;
            strings = image.ReadSectionContents(".debug_str")!;
        }
        DwarfLineTable pristine = DwarfLineTable.Parse(debugLine, lineStrings, strings);
        Assert.True(pristine.RowCount > 0);
        ulong[] probes = Enumerable.Range(0, 64).Select(i => 0x1000UL + (ulong)i * 0x20).ToArray();
        Assert.Contains(probes, address => pristine.TryFind(address, out _, out _));

        bool mutateLineStrings = section == ".debug_line_str";
        MutationRunner.Run($"{sample}{section}", mutateLineStrings ? lineStrings : debugLine, BinaryMutants, seed,
            input =>
            {
                DwarfLineTable table = mutateLineStrings
                    ? DwarfLineTable.Parse(debugLine, input, strings)
                    : DwarfLineTable.Parse(input, lineStrings, strings);
                foreach (ulong address in probes) table.TryFind(address, out _, out _);
            },
            _ => false,
            DwarfAllocationCap(debugLine, lineStrings));
    }

    /// <summary>
    /// Mutants of sample-pie's .debug_line that longer runs (LEAKTOOLS_MUTATION_FACTOR=10) found: a DWARF 5 file
    /// table whose entry count (880,000 and 89,000 in 445 and 519 bytes) sized a list before a byte was read.
    /// </summary>
    [Theory]
    [InlineData("debug_line-count-880k.bin")]
    [InlineData("debug_line-count-89k.bin")]
    public void DwarfLineTableFoundMutantsStayBounded(string file)
    {
        byte[] lineStrings, strings;
        using (ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-pie")))
        {
            lineStrings = image.ReadSectionContents(".debug_line_str")!;
            strings = image.ReadSectionContents(".debug_str")!;
        }
        byte[] input = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", "fuzz", file));
        MutationRunner.Replay(file, input, bytes => DwarfLineTable.Parse(bytes, lineStrings, strings), _ => false,
            DwarfAllocationCap(input, lineStrings));
    }

    /// <summary>Rows and file names: bounded by what the bytes can encode, far below this.</summary>
    private static long DwarfAllocationCap(byte[] debugLine, byte[] lineStrings) => 64L * (debugLine.Length + lineStrings.Length) + (1 << 20);

    /// <summary>Decoding, lines and the parsed objects: a small multiple of the text.</summary>
    private static long TextAllocationCap(byte[] original) => 32L * original.Length + (256 << 10);

    private static void ReadElf(byte[] bytes, string path)
    {
        File.WriteAllBytes(path, bytes);
        using ElfImage image = ElfImage.Open(path);
        _ = image.BuildId;
        _ = image.DebugLink;
        image.TryFindFunction("main", out _);
        image.TryFindFunction("malloc@GLIBC_2.2.5", out _);
        ModuleSymbols symbols = ModuleSymbols.Build(image, null, includeLines: true);
        for (ulong address = 0x1000; address < 0x1400; address += 0x10)
        {
            symbols.Functions.TryFind(address, out _, out _);
            symbols.Lines.TryFind(address, out _, out _);
        }
        try { image.ReadAtVirtualAddress(image.EntryPoint, 16); }
        catch (ArgumentOutOfRangeException) { } // documented: the entry point is in no PT_LOAD
    }

    /// <summary>The ELF header, program headers, section headers and every non-code section of the file.</summary>
    private static List<(int Start, int Length)> ElfStructure(byte[] elf)
    {
        ReadOnlySpan<byte> h = elf;
        int phoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(h[32..]);
        int shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(h[40..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(h[56..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(h[60..]);
        var ranges = new List<(int, int)> { (0, 64), (phoff, phnum * 56), (shoff, shnum * 64) };
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> s = h.Slice(shoff + i * 64, 64);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(s[4..]);
            ulong flags = BinaryPrimitives.ReadUInt64LittleEndian(s[8..]);
            int offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(s[24..]);
            int size = (int)BinaryPrimitives.ReadUInt64LittleEndian(s[32..]);
            const uint NoBits = 8;
            const ulong Executable = 4;
            if (type != NoBits && (flags & Executable) == 0 && size > 0) ranges.Add((offset, size));
        }
        return ranges;
    }

    private static ulong[] KallsymsAddresses(byte[] kallsyms) =>
        Encoding.UTF8.GetString(kallsyms).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => ulong.Parse(line.AsSpan(0, line.IndexOf(' ')), System.Globalization.NumberStyles.AllowHexSpecifier) + 4)
            .ToArray();
}
