using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using LeakTools.Bpf;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>Bpf/MemleakAbi.cs must match native/memleak.h, byte for byte and enum for enum.</summary>
public class MemleakAbiTests
{
    [Fact]
    public void StructSizesMatchTheHeader()
    {
        Assert.Equal(40, Unsafe.SizeOf<MemleakAbi.Config>());
        Assert.Equal(40, Unsafe.SizeOf<MemleakAbi.AllocInfo>());
        Assert.Equal(1024, Unsafe.SizeOf<MemleakAbi.Stack>());
        Assert.Equal(56, Unsafe.SizeOf<MemleakAbi.Event>());
    }

    [Fact]
    public void EventIdsUnpackAsTheHeaderPacksThem()
    {
        Assert.Matches(@"#define MEMLEAK_EVENT_ID_BITS " + MemleakAbi.Event.IdBits + @"\b", Header());
        var e = new MemleakAbi.Event { Ids = 4_194_303UL | 1234UL << 22 | (ulong)AllocatorFunction.PercpuFree << 44 };
        Assert.Equal(4_194_303u, e.Tid);
        Assert.Equal(1234u, e.Pid);
        Assert.Equal((uint)AllocatorFunction.PercpuFree, e.Function);
    }

    [Fact]
    public void OutstandingAllocationStaysAt48Bytes()
        => Assert.Equal(48, Unsafe.SizeOf<OutstandingAllocation>());

    private static string Header()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "native", "memleak.h");
            if (File.Exists(path)) return File.ReadAllText(path);
        }
        throw new FileNotFoundException("native/memleak.h not found above the test directory.");
    }

    private static string[] EnumMembers(string header, string enumName, string prefix)
    {
        Match body = Regex.Match(header, $@"enum {enumName} \{{(.*?)\}};", RegexOptions.Singleline);
        Assert.True(body.Success, $"enum {enumName} not found");
        return Regex.Matches(body.Groups[1].Value, $@"^\s*{prefix}(\w+)", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).Where(n => n != "COUNT").ToArray();
    }

    private static string Normalize(string name) => name.Replace("_", "").ToUpperInvariant();

    [Fact]
    public void FunctionEnumMatches()
    {
        string[] native = EnumMembers(Header(), "memleak_function", "MEMLEAK_FN_");
        string[] managed = Enum.GetNames<AllocatorFunction>();
        Assert.Equal(MemleakAbi.FunctionCount, native.Length);
        Assert.Equal(native.Select(Normalize), managed.Select(Normalize));
    }

    [Fact]
    public void StatEnumMatches()
    {
        string[] native = EnumMembers(Header(), "memleak_stat", "MEMLEAK_STAT_");
        string[] managed = Enum.GetNames<MemleakAbi.Stat>();
        Assert.Equal(native.Select(Normalize), managed.Select(n => Normalize(n)
            .Replace("ALLOCS", "ALLOCS").Replace("RINGBUFFERDROPS", "RINGBUFDROPS")));
    }
}
