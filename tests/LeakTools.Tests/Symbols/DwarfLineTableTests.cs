using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

public class DwarfLineTableTests
{
    private const string SampleSource = "/leaktools/samples/sample.c"; // make-samples.sh maps the build directory here

    private static int SourceLineOf(string text)
    {
        string[] lines = File.ReadAllLines(ElfSamples.PathOf("sample.c"));
        int index = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        Assert.True(index >= 0, text);
        return index + 1;
    }

    [Fact]
    public void PieSampleMapsAddressesToItsSourceLines()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-pie"));
        DwarfLineTable lines = DwarfLineTable.Load(image);
        Assert.True(lines.RowCount > 20);
        Assert.True(image.TryFindFunction("fibonacci", out ElfFunction fib));

        Assert.True(lines.TryFind(fib.Value, out string file, out int line));
        Assert.Equal(SampleSource, file);
        Assert.Equal(SourceLineOf("long fibonacci(int n)") + 1, line); // the opening brace

        // The calloc call is the first statement; -O1 code reaches it within the first 16 bytes.
        bool sawCalloc = false;
        for (ulong a = fib.Value; a < fib.Value + 16; a++)
            sawCalloc |= lines.TryFind(a, out _, out int l) && l == SourceLineOf("calloc(1024");
        Assert.True(sawCalloc);
    }

    [Fact]
    public void InlinedHelperShowsItsOwnLine()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-pie"));
        DwarfLineTable lines = DwarfLineTable.Load(image);
        Assert.True(image.TryFindFunction("fibonacci", out ElfFunction fib));
        int helperLine = SourceLineOf("static int helper_static");
        bool found = false;
        for (ulong a = fib.Value; a < fib.Value + fib.Size; a++)
            found |= lines.TryFind(a, out _, out int l) && l == helperLine;
        Assert.True(found, "helper_static is inlined into fibonacci, so some of its bytes carry the helper's line");
    }

    [Fact]
    public void LinesAgreeWithAddr2LineAcrossTheSample()
    {
        string path = ElfSamples.PathOf("sample-nopie");
        using ElfImage image = ElfImage.Open(path);
        DwarfLineTable lines = DwarfLineTable.Load(image);
        Assert.True(image.TryFindFunction("fibonacci", out ElfFunction fib));
        Assert.True(image.TryFindFunction("child", out ElfFunction child));

        var addresses = new System.Collections.Generic.List<ulong>();
        foreach (ElfFunction f in new[] { fib, child })
            for (ulong a = f.Value; a < f.Value + f.Size; a += 3) addresses.Add(a);
        var info = new ProcessStartInfo("addr2line") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-e");
        info.ArgumentList.Add(path);
        foreach (ulong a in addresses) info.ArgumentList.Add($"0x{a:x}");
        using Process addr2line = Process.Start(info)!;
        string[] expected = addr2line.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        addr2line.WaitForExit();
        Assert.Equal(addresses.Count, expected.Length);

        int agree = 0;
        for (int i = 0; i < addresses.Count; i++)
        {
            Assert.True(lines.TryFind(addresses[i], out string file, out int line));
            string theirs = expected[i].Split(' ')[0];
            if (theirs == $"{file}:{line}") agree++;
        }
        // addr2line prefers is_stmt rows where several rows share an address; the plain last row may differ there.
        Assert.True(agree >= addresses.Count * 9 / 10, $"{agree} of {addresses.Count} agree");
    }

    [Fact]
    public void MalformedLineProgramsKeepRowsReadBeforeTheDamage()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-pie"));
        byte[] debugLine = image.ReadSectionContents(".debug_line")!;
        byte[]? lineStrings = image.ReadSectionContents(".debug_line_str");
        int full = DwarfLineTable.Parse(debugLine, lineStrings, null).RowCount;

        Assert.Equal(0, DwarfLineTable.Parse(debugLine[..10], lineStrings, null).RowCount);
        var rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            byte[] copy = (byte[])debugLine.Clone();
            copy[rng.Next(copy.Length)] = (byte)rng.Next(256);
            DwarfLineTable table = DwarfLineTable.Parse(copy, lineStrings, i % 2 == 0 ? null : lineStrings);
            table.TryFind(0x1184, out _, out _);
            Assert.True(table.RowCount <= full + 1000);
        }
        Assert.Equal(0, DwarfLineTable.Parse(Array.Empty<byte>(), null, null).RowCount);
    }

    [Fact]
    public void LiveFramesCarryFileAndLine()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        using var process = SampleProcess.Start(dir.CopySample("sample-pie"), "wait");
        using var symbolizer = new ProcessSymbolizer(process.Id);
        var frame = symbolizer.Symbolize(process.Fibonacci);
        Assert.Equal("fibonacci", frame.Symbol);
        Assert.Equal(SampleSource, frame.File);
        Assert.Equal(SourceLineOf("long fibonacci(int n)") + 1, frame.Line);

        var options = new SymbolizerOptions { IncludeSourceLines = false };
        using var withoutLines = new ProcessSymbolizer(process.Id, options);
        var bare = withoutLines.Symbolize(process.Fibonacci);
        Assert.Equal("fibonacci", bare.Symbol);
        Assert.Null(bare.File);
        Assert.Null(bare.Line);
    }

    [Fact]
    public void LibcMallocLineComesFromTheCompressedDebugFile()
    {
        // Debian's libc6-dbg: a separate debug file by build-id whose .debug_line is zlib-compressed DWARF 5.
        IntPtr libc = NativeLibrary.Load("libc.so.6");
        ulong malloc = (ulong)NativeLibrary.GetExport(libc, "malloc");
        using var symbolizer = new ProcessSymbolizer(Environment.ProcessId);
        var frame = symbolizer.Symbolize(malloc);
        Assert.Equal("malloc", frame.Symbol);
        Assert.EndsWith("/malloc.c", frame.File);
        Assert.True(frame.Line > 0);
    }
}
