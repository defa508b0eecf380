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
        ["MemleakAbi.Stack"] = typeof(MemleakAbi.Stack),
        ["MemleakAbi.Event"] = typeof(MemleakAbi.Event),
        ["BpfLinkCreateAttr"] = typeof(BpfLinkCreateAttr),
        ["BpfTestRunAttr"] = typeof(BpfTestRunAttr),
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
        string program = Path.Combine(AppContext.BaseDirectory, "abi_layout");
        Assert.True(File.Exists(program), $"{program} is missing: the test build compiles it (run build.ps1 Build first for native/build/vmlinux.h).");
        using var process = Process.Start(new ProcessStartInfo(program) { RedirectStandardOutput = true })!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        var layout = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => ulong.Parse(parts[1]));
        Assert.NotEmpty(layout);
        return layout;
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
        // The one name spelt out in C#: MEMLEAK_STAT_RINGBUF_DROPS is Stat.RingBufferDrops.
        Assert.Equal(native.Select(Normalize), managed.Select(n => Normalize(n).Replace("RINGBUFFERDROPS", "RINGBUFDROPS")));
    }
}
