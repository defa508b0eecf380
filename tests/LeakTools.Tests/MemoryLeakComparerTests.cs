using System;
using System.Linq;
using LeakTools.Analysis;
using LeakTools.Model;
using Xunit;

namespace LeakTools.Tests;

public class MemoryLeakComparerTests
{
    private static readonly DateTime Report = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    // Another host or run: the same code loaded elsewhere (ASLR), so every address differs.
    private static StackFrame Frame(string? symbol, string module, ulong moduleOffset, ulong loadBase = 0x5555_0000_0000, ulong offset = 0x1c) =>
        new() { Symbol = symbol, Offset = symbol is null ? 0 : offset, Module = module, ModuleOffset = moduleOffset, Address = loadBase + moduleOffset };

    private static MemoryLeak Leak(ulong bytes, ulong count, params StackFrame[] stack) => Leak("app", 100, Report, bytes, count, stack);

    private static MemoryLeak Leak(string name, int pid, DateTime timestamp, ulong bytes, ulong count, params StackFrame[] stack) =>
        new() { ProcessName = name, ProcessId = pid, Timestamp = timestamp, Bytes = bytes, Count = count, Stack = stack, StackText = string.Join(" ← ", stack.Select(f => f.ToString())) };

    [Fact]
    public void MatchesNamedFramesByModuleAndSymbolNotByAddressOrOffset()
    {
        var before = Leak(1000, 10, Frame("leak", "app", 0x1100), Frame("main", "app", 0x1200));
        var after = Leak(3000, 30, Frame("leak", "app", 0x1180, 0x7777_0000_0000, 0x24), Frame("main", "app", 0x1290, 0x7777_0000_0000, 0x3b));

        var change = Assert.Single(MemoryLeakComparer.Compare(new[] { before }, new[] { after }));

        Assert.Equal(MemoryLeakChangeKind.Grown, change.Change);
        Assert.Equal((1000UL, 3000UL, 2000L), (change.ReferenceBytes, change.DifferenceBytes, change.BytesDelta));
        Assert.Equal((10UL, 30UL, 20L), (change.ReferenceCount, change.DifferenceCount, change.CountDelta));
        Assert.Same(after.Stack, change.Stack);
        Assert.Equal("app", change.ProcessName);
    }

    [Fact]
    public void MatchesUnnamedFramesByModuleOffsetAcrossLoadAddresses()
    {
        var before = Leak(1000, 10, Frame(null, "libx.so", 0x2100), Frame("main", "app", 0x1200));
        var sameOffset = Leak(1000, 10, Frame(null, "libx.so", 0x2100, 0x7f00_0000_0000), Frame("main", "app", 0x1200, 0x7f00_0000_0000));
        var otherOffset = Leak(500, 5, Frame(null, "libx.so", 0x2200), Frame("main", "app", 0x1200));

        var unchanged = Assert.Single(MemoryLeakComparer.Compare(new[] { before }, new[] { sameOffset }, includeEqual: true));
        Assert.Equal(MemoryLeakChangeKind.Unchanged, unchanged.Change);

        var changes = MemoryLeakComparer.Compare(new[] { before }, new[] { otherOffset });
        Assert.Equal(new[] { MemoryLeakChangeKind.New, MemoryLeakChangeKind.Gone }, changes.Select(c => c.Change));
    }

    [Fact]
    public void FlagsEveryKindAndSortsByByteGrowth()
    {
        StackFrame[] Stack(string site) => new[] { Frame(site, "app", 0x1000), Frame("main", "app", 0x2000) };
        var reference = new[] { Leak(100, 1, Stack("same")), Leak(500, 5, Stack("grows")), Leak(900, 9, Stack("shrinks")), Leak(700, 7, Stack("gone")), Leak(50, 1, Stack("more_blocks")) };
        var difference = new[] { Leak(100, 1, Stack("same")), Leak(2500, 6, Stack("grows")), Leak(300, 3, Stack("shrinks")), Leak(4000, 4, Stack("new")), Leak(50, 2, Stack("more_blocks")) };

        var changes = MemoryLeakComparer.Compare(reference, difference);
        Assert.Equal(new[] { "new", "grows", "more_blocks", "shrinks", "gone" }, changes.Select(c => c.Stack[0].Symbol));
        Assert.Equal(new[] { MemoryLeakChangeKind.New, MemoryLeakChangeKind.Grown, MemoryLeakChangeKind.Grown, MemoryLeakChangeKind.Shrunk, MemoryLeakChangeKind.Gone },
            changes.Select(c => c.Change));
        Assert.Equal(new[] { 4000L, 2000L, 0L, -600L, -700L }, changes.Select(c => c.BytesDelta));
        Assert.Equal((0UL, 4000UL), (changes[0].ReferenceBytes, changes[0].DifferenceBytes));
        Assert.Equal((700UL, 0UL, -7L), (changes[4].ReferenceBytes, changes[4].DifferenceBytes, changes[4].CountDelta));
        Assert.Equal("gone+0x1c ← main+0x1c", changes[4].StackText);

        var withEqual = MemoryLeakComparer.Compare(reference, difference, includeEqual: true);
        Assert.Equal(6, withEqual.Count);
        Assert.Equal(MemoryLeakChangeKind.Unchanged, withEqual.Single(c => c.Stack[0].Symbol == "same").Change);
    }

    [Fact]
    public void SumsOneStackOverTheProcessesOfOneNameAndKeepsNamesApart()
    {
        StackFrame[] stack = { Frame("leak", "app", 0x1000) };
        var reference = new[] { Leak("app", 10, Report, 100, 1, stack), Leak("app", 11, Report, 200, 2, stack), Leak("other", 12, Report, 1000, 10, stack) };
        var difference = new[] { Leak("app", 20, Report, 600, 6, stack), Leak("other", 21, Report, 1000, 10, stack) };

        var change = Assert.Single(MemoryLeakComparer.Compare(reference, difference));
        Assert.Equal(("app", 300UL, 600UL), (change.ProcessName, change.ReferenceBytes, change.DifferenceBytes));
    }

    [Fact]
    public void CountsOnlyTheLatestReportOfEachProcess()
    {
        StackFrame[] stack = { Frame("leak", "app", 0x1000) };
        // Find-MemoryLeak -Interval -Count: each report holds everything still outstanding, so they must not add up.
        var periodic = new[]
        {
            new MemoryLeakInput(Leak("app", 10, Report, 100, 1, stack)),
            new MemoryLeakInput(Leak("app", 10, Report.AddSeconds(5), 200, 2, stack)),
            new MemoryLeakInput(Leak("app", 10, Report.AddSeconds(10), 300, 3, stack)),
            // The same pid on another host is another process.
            new MemoryLeakInput(Leak("app", 10, Report, 1000, 10, stack), "hostb"),
        };

        var change = Assert.Single(MemoryLeakComparer.Compare(Array.Empty<MemoryLeakInput>(), periodic));
        Assert.Equal((1300UL, 13UL), (change.DifferenceBytes, change.DifferenceCount));
        Assert.Equal(2, LatestLeakReport.Select(periodic, out int leftOut).Count);
        Assert.Equal(2, leftOut);
    }
}
