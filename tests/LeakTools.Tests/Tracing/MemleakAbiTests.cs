using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LeakTools.Bpf;
using LeakTools.Interop;
using LeakTools.Model;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>
/// The C# mirrors must match their C definitions byte for byte and enum for enum: Bpf/MemleakAbi.cs matches
/// native/memleak.h, and the Interop structs match the running kernel's. The C side's sizes and offsets come
/// from Native/abi_layout.c, compiled by the test build against the header and the kernel's BTF.
/// </summary>
public class MemleakAbiTests
{
    /// <summary>The mirrors abi_layout.c names, by the name it prints for them.</summary>
    private static readonly Dictionary<string, Type> Mirrors = new()
    {
        ["MemleakAbi"] = typeof(MemleakAbi),
        ["MemleakAbi.Config"] = typeof(MemleakAbi.Config),
        ["MemleakAbi.AllocInfo"] = typeof(MemleakAbi.AllocInfo),
        ["MemleakAbi.AllocKey"] = typeof(MemleakAbi.AllocKey),
        ["MemleakAbi.Process"] = typeof(MemleakAbi.Process),
        ["MemleakAbi.ProcessEvent"] = typeof(MemleakAbi.ProcessEvent),
        ["MemleakAbi.Stack"] = typeof(MemleakAbi.Stack),
        ["MemleakAbi.Event"] = typeof(MemleakAbi.Event),
        ["MemleakAbi.UnwindMapping"] = typeof(MemleakAbi.UnwindMapping),
        ["MemleakAbi.UnwindModule"] = typeof(MemleakAbi.UnwindModule),
        ["MemleakAbi.UnwindState"] = typeof(MemleakAbi.UnwindState),
        ["BpfLinkCreateAttr"] = typeof(BpfLinkCreateAttr),
        ["BpfTestRunAttr"] = typeof(BpfTestRunAttr),
        ["BpfProgramInfo"] = typeof(BpfProgramInfo),
        ["StatxBuffer"] = typeof(StatxBuffer),
    };

    private static readonly Lazy<Dictionary<string, ulong>> CLayout = new(RunLayoutProgram);

    [Fact]
    public void EverySizeOffsetAndConstantMatchesTheCSide()
    {
        var mismatches = new List<string>();
        foreach (var (name, cValue) in CLayout.Value)
        {
            ulong? mirrored = MirroredValue(name);
            if (mirrored != cValue) mismatches.Add($"{name}: C says {cValue}, C# {(mirrored?.ToString() ?? "has no such member")}");
        }
        Assert.Empty(mismatches);
    }

    [Fact]
    public void EveryFieldOfEveryStructMirrorIsCompared()
    {
        var compared = CLayout.Value.Keys.ToHashSet();
        var unchecked_ = Mirrors
            .Where(m => m.Value.IsValueType)
            .SelectMany(m => m.Value.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .Where(f => !f.Name.StartsWith('_'))   // explicit padding
                .Select(f => $"{m.Key}.{f.Name}"))
            .Where(name => !compared.Contains(name));
        Assert.Empty(unchecked_);
        Assert.All(Mirrors.Keys.Where(k => Mirrors[k].IsValueType), k => Assert.Contains(k, compared));
    }

    private static ulong? MirroredValue(string name)
    {
        const string Syscalls = "SyscallNumbers.Current.";
        if (name.StartsWith(Syscalls, StringComparison.Ordinal))
            return (ulong?)(long?)typeof(SyscallNumbers).GetProperty(name[Syscalls.Length..])?.GetValue(SyscallNumbers.Current);
        if (Mirrors.TryGetValue(name, out Type? type))
            return (ulong)Marshal.SizeOf(type);
        int dot = name.LastIndexOf('.');
        if (dot < 0 || !Mirrors.TryGetValue(name[..dot], out type)) return null;
        string member = name[(dot + 1)..];
        FieldInfo? field = type.GetField(member, BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        if (field is null) return null;
        if (field.IsLiteral) return Convert.ToUInt64(field.GetRawConstantValue());
        return (ulong)Marshal.OffsetOf(type, member);
    }

    private static Dictionary<string, ulong> RunLayoutProgram()
    {
        var layout = RunAbiLayout().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => ulong.Parse(parts[1]));
        Assert.NotEmpty(layout);
        return layout;
    }

    /// <summary>The output of Native/abi_layout.c, run with <paramref name="argument"/>.</summary>
    private static string RunAbiLayout(string? argument = null)
    {
        string program = Path.Combine(AppContext.BaseDirectory, "abi_layout");
        Assert.True(File.Exists(program), $"{program} is missing: the test build compiles it (run build.ps1 Build first for native/build/vmlinux.h).");
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true };
        if (argument is not null) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }

    /// <summary>The rows of one of memleak.h's tables as abi_layout prints them (tab-separated, without the table's name).</summary>
    private static string[][] HeaderTable(string table)
    {
        string[][] rows = RunAbiLayout("tables").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t')).Where(fields => fields[0] == table).Select(fields => fields[1..]).ToArray();
        Assert.NotEmpty(rows);
        return rows;
    }

    /// <summary>Adding an allocator function to one table and not the other, or changing a row on one side, fails here.</summary>
    [Fact]
    public void AllocatorTableMatchesTheHeaders()
    {
        string[][] native = HeaderTable("function");
        var expected = native.Select(r => string.Join(" | ", r.Select((field, i) => i == 1 ? Normalize(field) : field)));
        var managed = AllocatorProbe.All.Select(p => string.Join(" | ",
            ((int)p.Function).ToString(), Normalize(p.Function.ToString()), p.Symbol, p.IsKernel ? "Kernel" : "User",
            p.Semantics.ToString().ToUpperInvariant(), ((int)p.Semantics).ToString(), p.Arguments, p.HasReturnProbe ? "1" : "0"));
        Assert.Equal(expected, managed);
        Assert.Equal(MemleakAbi.FunctionCount, AllocatorProbe.All.Count);
        Assert.Equal(Enum.GetValues<AllocatorFunction>(), AllocatorProbe.All.Select(p => p.Function));
        Assert.Equal(Enum.GetNames<AllocatorSemantics>().Select(Normalize), EnumMembers(Header(), "memleak_semantics", "MEMLEAK_SEMANTICS_").Select(Normalize));
    }

    /// <summary>Adding a stat counter to one side only, or rolling it into another loss, fails here.</summary>
    [Fact]
    public void StatTableMatchesTheHeaders()
    {
        string[][] native = HeaderTable("stat");
        var expected = native.Select(r => string.Join(" | ", r[0], Normalize(r[1]), Normalize(r[2]), r[3]));
        var managed = Enum.GetValues<MemleakAbi.Stat>().Where(s => s != MemleakAbi.Stat.HitsBase).Select(s => string.Join(" | ",
            ((int)s).ToString(), Normalize(s.ToString()), Normalize(MemleakAbi.StatLoss[(int)s].ToString()), ((int)MemleakAbi.StatLoss[(int)s]).ToString()));
        Assert.Equal(expected, managed);
        Assert.Equal((int)MemleakAbi.Stat.HitsBase, native.Length);
        Assert.Equal(Enum.GetNames<TraceLossKind>().Select(Normalize), EnumMembers(Header(), "memleak_loss", "MEMLEAK_LOSS_").Select(Normalize));
    }

    /// <summary>arm64 numbers its system calls by the generic table, which every kernel header package carries.</summary>
    [Fact]
    public void Arm64SyscallNumbersMatchTheGenericTable()
    {
        string header = File.ReadAllText("/usr/include/asm-generic/unistd.h");
        long Number(string call) => long.Parse(Regex.Match(header, $@"#define __NR_{call} (\d+)").Groups[1].Value);
        Assert.Equal(Number("bpf"), SyscallNumbers.Arm64.Bpf);
        Assert.Equal(Number("statx"), SyscallNumbers.Arm64.Statx);
        Assert.Equal(Number("openat2"), SyscallNumbers.Arm64.Openat2);
        Assert.Equal(SyscallNumbers.Arm64, SyscallNumbers.For(Architecture.Arm64));
        Assert.Equal(SyscallNumbers.X64, SyscallNumbers.For(Architecture.X64));
        Assert.Throws<PlatformNotSupportedException>(() => SyscallNumbers.For(Architecture.X86));
    }

    [Fact]
    public void EventIdsUnpackAsTheHeaderPacksThem()
    {
        var e = new MemleakAbi.Event { Ids = 4_194_303UL | 1234UL << 22 | (ulong)AllocatorFunction.PercpuFree << 44 };
        Assert.Equal(4_194_303u, e.Tid);
        Assert.Equal(1234u, e.Pid);
        Assert.Equal((uint)AllocatorFunction.PercpuFree, e.Function);
    }

    [Fact]
    public void OutstandingAllocationStaysAt56Bytes()   // 48 before the process tree added its process and image
        => Assert.Equal(56, Unsafe.SizeOf<OutstandingAllocation>());

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
}
