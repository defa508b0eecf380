using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using LeakTools.Symbols;
using LeakTools.Tests.Symbols;
using LeakTools.Unwinding;
using Xunit;

namespace LeakTools.Tests.Unwinding;

/// <summary>
/// Unwind tables against an independent reader of the same call frame information: binutils' readelf -wF
/// (its interpretation of every FDE's rows). Every row readelf prints must be the rule our table gives there.
/// </summary>
public class UnwindTableTests
{
    [Theory]
    [InlineData("sample-nopie")]
    [InlineData("sample-pie")]
    [InlineData("sample-cpp")]
    [InlineData("libsample.so")]
    [InlineData(ElfSamples.LibcPath)]
    public void EveryRowMatchesReadelf(string sample)
    {
        string path = sample.StartsWith('/') ? sample : ElfSamples.PathOf(sample);
        using var image = ElfImage.Open(path);
        UnwindTable table = UnwindTable.Build(image) ?? throw new InvalidDataException("no table");
        Assert.Equal(".eh_frame_hdr", table.Source);

        int compared = 0;
        foreach (ReadelfRow expected in ReadelfRows(path))
        {
            UnwindRow actual = table.Lookup(expected.Address);
            string where = $"{Path.GetFileName(path)} at 0x{expected.Address:x}: readelf '{expected.Text}', ours {actual}";
            Assert.True(expected.Allows(actual), where);
            compared++;
        }
        Assert.True(compared >= 5, $"only {compared} rows compared");
    }

    [Fact]
    public void LibcSignalTrampolineIsASignalFrame()
    {
        using var image = ElfImage.Open(ElfSamples.LibcPath);
        UnwindTable table = UnwindTable.Build(image)!;
        // __restore_rt is a local symbol, stripped from the installed libc: its FDE is the one marked 'S'.
        var signalRows = Array.FindAll(table.Rows, r => UnwindRow.Unpack(r).Kind == UnwindRowKind.SignalFrame);
        Assert.Single(signalRows);
        Assert.NotEqual(UnwindRowKind.SignalFrame, table.Lookup(UnwindRow.Unpack(signalRows[0]).Address - 1).Kind);
    }

    [Fact]
    public void StartEndsTheStackAndPltStubsAreRecognised()
    {
        using var image = ElfImage.Open(ElfSamples.PathOf("sample-nopie"));
        UnwindTable table = UnwindTable.Build(image)!;
        Assert.Equal(UnwindRowKind.EndOfStack, table.Lookup(image.EntryPoint).Kind);
        ulong plt = image.SectionAddress(".plt")!.Value;
        Assert.Equal(UnwindRowKind.Plt, table.Lookup(plt + 0x10).Kind);
    }

    [Fact]
    public void RowsPackIntoEightBytesAndTheIndexBoundsEverySearch()
    {
        using var image = ElfImage.Open(ElfSamples.LibcPath);
        UnwindTable table = UnwindTable.Build(image)!;
        Assert.True(table.SizeBytes <= table.Rows.Length * 12L, $"{table.SizeBytes} bytes for {table.Rows.Length} rows");
        foreach (ulong page in table.Pages) Assert.InRange((int)(page >> 32), 1, 4097);   // 13 binary-search steps at most
        var row = new UnwindRow(0x12345678, UnwindRowKind.Rbp, 16, -2);
        Assert.Equal(row, UnwindRow.Unpack(row.Pack()));
    }

    private sealed record ReadelfRow(ulong Address, string Cfa, string Rbp, string ReturnAddress, bool SignalFrame, string Text)
    {
        public bool Allows(UnwindRow row)
        {
            if (SignalFrame) return row.Kind == UnwindRowKind.SignalFrame;
            if (ReturnAddress == "u") return row.Kind is UnwindRowKind.EndOfStack or UnwindRowKind.Unknown;
            if (ReturnAddress != "c-8") return row.Kind == UnwindRowKind.Unknown;
            if (Cfa == "exp") return row.Kind is UnwindRowKind.Plt or UnwindRowKind.Unknown;
            var cfa = Regex.Match(Cfa, @"^(rsp|rbp)\+(\d+)$");
            if (!cfa.Success) return row.Kind == UnwindRowKind.Unknown;
            var kind = cfa.Groups[1].Value == "rsp" ? UnwindRowKind.Rsp : UnwindRowKind.Rbp;
            int offset = int.Parse(cfa.Groups[2].Value, CultureInfo.InvariantCulture);
            var rbp = Regex.Match(Rbp, @"^c-(\d+)$");
            if (rbp.Success)
                return row.Kind == kind && row.CfaOffset == offset && row.RbpSlot * -8 == int.Parse(rbp.Groups[1].Value, CultureInfo.InvariantCulture);
            if (Rbp is "u" or "s" or "") return row.Kind == kind && row.CfaOffset == offset && row.RbpSlot == 0;
            return row.Kind == UnwindRowKind.Unknown;   // rbp in a register or an expression
        }
    }

    /// <summary>Every row of readelf -wF: the CFA, rbp and return-address columns, and whether its CIE marks a signal frame.</summary>
    private static IEnumerable<ReadelfRow> ReadelfRows(string path)
    {
        var start = new ProcessStartInfo("readelf", new[] { "-wF", path }) { RedirectStandardOutput = true };
        using var readelf = Process.Start(start)!;
        string output = readelf.StandardOutput.ReadToEnd();
        readelf.WaitForExit();
        // It exits 1 after following libc's debug link to a file whose .eh_frame is NOBITS; the rows come first.
        Assert.Contains("Contents of the .eh_frame section", output);

        var signalCies = new HashSet<string>();
        string[]? columns = null;
        bool signal = false, inFde = false;
        foreach (string line in output.Split('\n'))
        {
            var cie = Regex.Match(line, @"^([0-9a-f]{8}) \S+ \S+ CIE ""([^""]*)""");
            if (cie.Success)
            {
                if (cie.Groups[2].Value.Contains('S')) signalCies.Add(cie.Groups[1].Value);
                inFde = false;
                continue;
            }
            var fde = Regex.Match(line, @" FDE cie=([0-9a-f]{8}) ");
            if (fde.Success)
            {
                signal = signalCies.Contains(fde.Groups[1].Value);
                inFde = true;
                columns = null;
                continue;
            }
            if (!inFde) continue;
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 1 && fields[0] == "LOC") { columns = fields; continue; }
            if (columns is null || fields.Length != columns.Length || !ulong.TryParse(fields[0], NumberStyles.HexNumber, null, out ulong address)) continue;
            string Column(string name) => Array.IndexOf(columns, name) is int i and >= 0 ? fields[i] : "";
            yield return new ReadelfRow(address, Column("CFA"), Column("rbp"), Column("ra"), signal, line.Trim());
        }
    }
}
