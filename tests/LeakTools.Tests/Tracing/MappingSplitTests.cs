using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using LeakTools.Bpf;
using LeakTools.Tests.Bpf;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>
/// The split of recorded mappings by a partial munmap or mremap, as memleak.bpf.c does it (unmap_range): run on the
/// real eBPF object through its test program memleak__mapping_test, which records mappings and unmaps ranges
/// exactly as the mmap and munmap probes do, then read back from the real "outstanding" map.
/// </summary>
public class MappingSplitTests
{
    private const ulong Page = 4096;
    private const ulong Base = 0x7f00_0000_0000;

    [StructLayout(LayoutKind.Sequential)]
    private struct MappingTest   // struct memleak_mapping_test in memleak.bpf.c
    {
        public ulong Op;         // 0: record a mapping, 1: unmap a range
        public ulong Address;
        public ulong Length;
    }

    /// <param name="mapped">Recorded mappings, as (first page, pages) from <see cref="Base"/>.</param>
    /// <param name="unmapped">The range unmapped, (first page, pages).</param>
    /// <param name="expected">What stays recorded, (first page, pages, page of the mapping whose record it came from).</param>
    [Theory]
    [MemberData(nameof(Cases))]
    public void UnmappingPartOfARecordedMappingLeavesTheBytesStillMapped(string what, (int, int)[] mapped, (int First, int Pages) unmapped,
        int gonePages, (int First, int Pages, int From)[] expected)
    {
        using var bpf = MemleakTestObject.Load();
        foreach (var (first, pages) in mapped) Assert.Equal(0, Run(bpf, 0, first, pages));

        int gone = Run(bpf, 1, unmapped.First, unmapped.Pages);

        Assert.True(gone == gonePages * (int)Page, $"{what}: {gone} bytes gone, expected {gonePages * (int)Page}");
        var records = ReadRecords(bpf);
        Assert.Equal(expected.Select(e => (Base + (ulong)e.First * Page, (ulong)e.Pages * Page, Base + (ulong)e.From * Page)), records);
    }

    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "head", new[] { (0, 4) }, (0, 1), 1, new[] { (1, 3, 0) } },
        new object[] { "tail", new[] { (0, 6) }, (5, 1), 1, new[] { (0, 5, 0) } },
        new object[] { "middle", new[] { (0, 8) }, (2, 2), 2, new[] { (0, 2, 0), (4, 4, 0) } },
        new object[] { "whole", new[] { (0, 3) }, (0, 3), 3, new (int, int, int)[0] },
        new object[] { "more than the mapping, on both sides", new[] { (2, 1) }, (0, 6), 1, new (int, int, int)[0] },
        new object[] { "two whole mappings at once", new[] { (0, 2), (2, 2) }, (0, 4), 4, new (int, int, int)[0] },
        new object[] { "across two mappings", new[] { (0, 2), (2, 2) }, (1, 2), 2, new[] { (0, 1, 0), (3, 1, 2) } },
        new object[] { "a range nothing recorded covers", new[] { (0, 2) }, (10, 2), 0, new[] { (0, 2, 0) } },
    };

    [Fact]
    public void ThePiecesOfASplitMappingSplitAgain()
    {
        using var bpf = MemleakTestObject.Load();
        Run(bpf, 0, 0, 10);
        Assert.Equal(2 * (int)Page, Run(bpf, 1, 4, 2));   // [0,4) and [6,10)
        Assert.Equal(2 * (int)Page, Run(bpf, 1, 7, 2));   // [0,4), [6,7) and [9,10)
        Assert.Equal(1 * (int)Page, Run(bpf, 1, 0, 1));   // [1,4), [6,7) and [9,10)
        Assert.Equal(new[] { (Base + Page, 3 * Page, Base), (Base + 6 * Page, Page, Base), (Base + 9 * Page, Page, Base) }, ReadRecords(bpf));
    }

    private static int Run(BpfObject bpf, ulong op, int firstPage, int pages)
        => bpf.Run("memleak__mapping_test", new MappingTest { Op = op, Address = Base + (ulong)firstPage * Page, Length = (ulong)pages * Page });

    /// <summary>The outstanding records, by address: (address, size, the mapping start the test program stored as the caller).</summary>
    private static (ulong, ulong, ulong)[] ReadRecords(BpfObject bpf)
    {
        var records = new List<(ulong, ulong, ulong)>();
        bpf.HashMap<MemleakAbi.AllocKey, MemleakAbi.AllocInfo>("outstanding").ReadAll(64, (keys, values) =>
        {
            for (int i = 0; i < keys.Length; i++) records.Add((keys[i].Address, values[i].Size, values[i].Caller));
        });
        return records.OrderBy(r => r.Item1).ToArray();
    }

    /// <summary>memleak.bpf.o with only the test program (and the flush program, which needs nothing) loaded.</summary>
}
