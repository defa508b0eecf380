using System;
using Stopwatch = System.Diagnostics.Stopwatch;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using LeakTools.Model;
using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

/// <summary>Symbolization of real, running processes built from the committed fixtures.</summary>
public class ProcessSymbolizerTests
{
    private static SymbolizerOptions NoDebugDirectories()
    {
        var options = new SymbolizerOptions();
        options.DebugDirectories.Clear();
        return options;
    }

    private static ulong FileOffsetOf(string path, string function)
    {
        using ElfImage image = ElfImage.Open(path);
        Assert.True(image.TryFindFunction(function, out ElfFunction f));
        Assert.True(image.TryGetFileOffset(f.Value, out ulong offset));
        return offset;
    }

    [Fact]
    public void PieProcessResolvesFunctionsAcrossTheLoadBias()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-pie");
        using var process = SampleProcess.Start(binary, "wait");
        using var symbolizer = new ProcessSymbolizer(process.Id, NoDebugDirectories());

        StackFrame frame = symbolizer.Symbolize(process.Fibonacci + 0x13);
        Assert.Equal("fibonacci", frame.Symbol);
        Assert.Equal(0x13UL, frame.Offset);
        Assert.Equal("sample-pie", frame.Module);
        Assert.Equal(binary, frame.ModulePath);
        Assert.Equal(FileOffsetOf(binary, "fibonacci") + 0x13, frame.ModuleOffset);
        Assert.False(frame.IsKernel);
        Assert.Equal("fibonacci+0x13", frame.ToString());

        Assert.Equal(symbolizer.ProcessId, process.Id);
        Assert.True(ProcessSymbolizer.SharesOurMountNamespace(process.Id));
    }

    [Fact]
    public void StackFramesAfterTheFirstAreReadAsReturnAddresses()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-pie");
        using ElfImage image = ElfImage.Open(binary);
        Assert.True(image.TryFindFunction("fibonacci", out ElfFunction fib));
        // The return address of fibonacci's first call (to calloc), found by decoding its code.
        var decoder = Iced.Intel.Decoder.Create(64, new Iced.Intel.ByteArrayCodeReader(image.ReadAtVirtualAddress(fib.Value, (int)fib.Size)));
        decoder.IP = fib.Value;
        ulong returnAddress = 0;
        while (decoder.IP < fib.Value + fib.Size && returnAddress == 0)
        {
            decoder.Decode(out Iced.Intel.Instruction instruction);
            if (instruction.FlowControl == Iced.Intel.FlowControl.Call) returnAddress = instruction.NextIP;
        }
        Assert.NotEqual(0UL, returnAddress);

        using var process = SampleProcess.Start(binary, "wait");
        using var symbolizer = new ProcessSymbolizer(process.Id);
        ulong bias = process.Fibonacci - fib.Value;
        StackFrame[] frames = symbolizer.SymbolizeStack(new[] { process.Fibonacci + 4, bias + returnAddress, process.Child });

        Assert.Equal("fibonacci+0x4", frames[0].ToString());
        Assert.Equal($"fibonacci+0x{returnAddress - fib.Value:x}", frames[1].ToString());
        Assert.Equal(bias + returnAddress, frames[1].Address);
        string[] source = File.ReadAllLines(ElfSamples.PathOf("sample.c"));
        Assert.Contains("calloc(", source[frames[1].Line!.Value - 1]); // the call's line, not the next one
        // A return address at the very start of child belongs to a call that ended the function before it.
        Assert.Equal("fibonacci", frames[2].Symbol);
        Assert.Equal(process.Child - process.Fibonacci, frames[2].Offset);
        Assert.Equal("child", symbolizer.Symbolize(process.Child).Symbol);
    }

    [Fact]
    public void NonPieProcessResolvesAtLinkTimeAddresses()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-nopie");
        using var process = SampleProcess.Start(binary, "wait");
        using ElfImage image = ElfImage.Open(binary);
        Assert.True(image.TryFindFunction("child", out ElfFunction child));
        Assert.Equal(child.Value, process.Child); // no bias without PIE

        using var symbolizer = new ProcessSymbolizer(process.Id, NoDebugDirectories());
        StackFrame frame = symbolizer.Symbolize(process.Child + 1);
        Assert.Equal("child", frame.Symbol);
        Assert.Equal(1UL, frame.Offset);
    }

    [Fact]
    public void StrippedBinaryWithoutDebugFileShowsModuleAndOffset()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-stripped");
        using var process = SampleProcess.Start(binary, "wait");
        using var symbolizer = new ProcessSymbolizer(process.Id, NoDebugDirectories());

        StackFrame frame = symbolizer.Symbolize(process.Fibonacci + 2);
        Assert.Null(frame.Symbol);
        Assert.Equal("sample-stripped", frame.Module);
        using ElfImage debug = ElfImage.Open(ElfSamples.PathOf("sample-stripped.debug"));
        Assert.True(debug.TryFindFunction("fibonacci", out ElfFunction fib));
        using ElfImage strippedImage = ElfImage.Open(ElfSamples.PathOf("sample-stripped"));
        Assert.True(strippedImage.TryGetFileOffset(fib.Value, out ulong fileOffset));
        Assert.Equal(fileOffset + 2, frame.ModuleOffset);
        Assert.Equal($"sample-stripped+0x{fileOffset + 2:x}", frame.ToString());
        Assert.DoesNotContain("unknown", frame.ToString());
        Assert.Equal(strippedImage.BuildId, frame.BuildId);  // an unnamed frame still says which binary it is in
    }

    [Fact]
    public void StrippedBinaryFindsItsDebugFileByBuildId()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-stripped", "bin/app");
        using ElfImage stripped = ElfImage.Open(binary);
        string buildId = stripped.BuildId!;
        dir.CopySample("sample-stripped.debug", $"debug/.build-id/{buildId[..2]}/{buildId[2..]}.debug");
        var options = NoDebugDirectories();
        options.DebugDirectories.Add(Path.Combine(dir.Path, "debug"));

        using var process = SampleProcess.Start(binary, "wait");
        using var symbolizer = new ProcessSymbolizer(process.Id, options);
        StackFrame frame = symbolizer.Symbolize(process.Fibonacci + 4);
        Assert.Equal("fibonacci", frame.Symbol);
        Assert.Equal(4UL, frame.Offset);
        Assert.Equal("app", frame.Module);
        Assert.Equal(buildId, frame.BuildId);  // names the exact binary in exported profiles
        // A static function exists only in the debug file's .symtab.
        Assert.Equal("child", symbolizer.Symbolize(process.Child).Symbol);
    }

    [Theory]
    [InlineData("bin/sample-stripped.debug")]
    [InlineData("bin/.debug/sample-stripped.debug")]
    public void StrippedBinaryFindsItsDebugFileByDebugLink(string debugFileLocation)
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-stripped", "bin/sample-stripped");
        dir.CopySample("sample-stripped.debug", debugFileLocation);

        using var process = SampleProcess.Start(binary, "wait");
        using var symbolizer = new ProcessSymbolizer(process.Id, NoDebugDirectories());
        Assert.Equal("fibonacci", symbolizer.Symbolize(process.Fibonacci).Symbol);
    }

    [Fact]
    public void DebugLinkFileWhoseCrcDiffersIsNotUsed()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-stripped", "bin/sample-stripped");
        string debugFile = dir.CopySample("sample-stripped.debug", "bin/sample-stripped.debug");
        // Still a valid ELF file with the same build-id, but no longer the file the binary's CRC names.
        using (var stream = new FileStream(debugFile, FileMode.Append)) stream.WriteByte(0);

        using var process = SampleProcess.Start(binary, "wait");
        var reasons = new List<string>();
        var options = NoDebugDirectories();
        options.Verbose = reasons.Add;
        using var symbolizer = new ProcessSymbolizer(process.Id, options);
        Assert.NotEqual("fibonacci", symbolizer.Symbolize(process.Fibonacci).Symbol);
        Assert.Contains(reasons, r => r.Contains(debugFile) && r.Contains("CRC32"));
    }

    [Fact]
    public void DebugLinkUnderTheDebugDirectoryMirrorsTheBinaryDirectory()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-stripped", "bin/sample-stripped");
        string debugRoot = Path.Combine(dir.Path, "dbg");
        dir.CopySample("sample-stripped.debug", "dbg" + Path.Combine(dir.Path, "bin") + "/sample-stripped.debug");
        var options = NoDebugDirectories();
        options.DebugDirectories.Add(debugRoot);

        using var process = SampleProcess.Start(binary, "wait");
        using var symbolizer = new ProcessSymbolizer(process.Id, options);
        Assert.Equal("fibonacci", symbolizer.Symbolize(process.Fibonacci).Symbol);
    }

    [Fact]
    public void DeletedBinaryIsReadThroughMapFiles()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-pie", "deleted-app");
        using var process = SampleProcess.Start(binary, "wait");
        File.Delete(binary);

        using var symbolizer = new ProcessSymbolizer(process.Id, NoDebugDirectories());
        StackFrame frame = symbolizer.Symbolize(process.Fibonacci + 1);
        Assert.Equal("fibonacci", frame.Symbol);
        Assert.Equal("deleted-app", frame.Module);
        Assert.Equal(binary, frame.ModulePath); // without the " (deleted)" marker
    }

    [Fact]
    public void SymbolsStillResolveAfterTheProcessExits()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string binary = dir.CopySample("sample-pie", "short-lived");
        var process = SampleProcess.Start(binary, "wait");
        using var symbolizer = new ProcessSymbolizer(process.Id, NoDebugDirectories());
        ulong fibonacci = process.Fibonacci;
        int pid = process.Id;
        process.Dispose(); // exits and is reaped
        File.Delete(binary);
        Assert.False(Directory.Exists($"/proc/{pid}/map_files"));

        symbolizer.Refresh(); // keeps the last snapshot rather than failing
        StackFrame frame = symbolizer.Symbolize(fibonacci + 8);
        Assert.Equal("fibonacci", frame.Symbol);
        Assert.Equal(8UL, frame.Offset);
    }

    [Fact]
    public void ProcessInItsOwnMountNamespaceResolvesThroughItsRoot()
    {
        // The binary and its debug file exist only inside a tmpfs mounted in the target's private mount
        // namespace; the host sees an empty directory at the same path.
        // Outside /tmp, because the container gets its own /tmp for the perf map below.
        using var dir = SampleProcess.CreateTemporaryDirectory("/var/tmp");
        string staging = dir.CopySample("sample-stripped", "staging/app");
        dir.CopySample("sample-stripped.debug", "staging/sample-stripped.debug");
        string appDir = Path.Combine(dir.Path, "container");
        Directory.CreateDirectory(appDir);
        string script =
            $"mount -t tmpfs none '{appDir}' && cp '{staging}' '{appDir}/app' && mkdir '{appDir}/.debug' " +
            $"&& cp '{Path.GetDirectoryName(staging)}/sample-stripped.debug' '{appDir}/.debug/' && mount -t tmpfs none /tmp && exec '{appDir}/app' wait";

        using var process = SampleProcess.Start("unshare", "--mount", "--pid", "--fork", "sh", "-c", script);
        int pid = FindChildRunning(process.Id, Path.Combine(appDir, "app"));
        Assert.False(File.Exists(Path.Combine(appDir, "app")), "the host must not see the container's binary");

        // A JIT in the container writes its perf map under its own pid, in its own /tmp.
        Assert.False(ProcessSymbolizer.SharesOurMountNamespace(pid));
        int? nspid = ProcessSymbolizer.ReadNamespacePid(pid);
        Assert.Equal(1, nspid);
        File.WriteAllText($"/proc/{pid}/root/tmp/perf-1.map", "7f0000001000 40 jitted_leaker\n");

        using var symbolizer = new ProcessSymbolizer(pid, NoDebugDirectories());
        Assert.Equal(1, symbolizer.NamespaceProcessId);
        StackFrame frame = symbolizer.Symbolize(process.Fibonacci + 6);
        Assert.Equal("fibonacci", frame.Symbol);
        Assert.Equal(6UL, frame.Offset);
        Assert.Equal(Path.Combine(appDir, "app"), frame.ModulePath);

        StackFrame jit = symbolizer.Symbolize(0x7f0000001010);
        Assert.Equal("jitted_leaker", jit.Symbol);
        Assert.Equal(0x10UL, jit.Offset);
        Assert.Equal("/tmp/perf-1.map", jit.ModulePath);
    }

    private static int FindChildRunning(int ancestor, string executable)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
                try
                {
                    string cmdline = File.ReadAllText($"{dir}/cmdline");
                    if (cmdline.StartsWith(executable + "\0", StringComparison.Ordinal) && IsDescendant(pid, ancestor)) return pid;
                }
                catch (IOException) { }
            }
            System.Threading.Thread.Sleep(20);
        }
        throw new TimeoutException($"No descendant of {ancestor} runs {executable}.");
    }

    private static bool IsDescendant(int pid, int ancestor)
    {
        for (int i = 0; i < 8 && pid > 1; i++)
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            pid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
            if (pid == ancestor) return true;
        }
        return false;
    }

    [Fact]
    public void PerfMapNamesJitCodeInAnonymousMemory()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        using var process = SampleProcess.Start(dir.CopySample("sample-pie"), "wait");
        string perfMap = $"/tmp/perf-{process.Id}.map";
        File.WriteAllText(perfMap, "7f00000a0000 100 Program::Main\n0x7f00000a0100 0x80 [stub] LeakyCache::Add(int)\nbad line\n");
        try
        {
            using var symbolizer = new ProcessSymbolizer(process.Id, NoDebugDirectories());
            StackFrame main = symbolizer.Symbolize(0x7f00000a0042);
            Assert.Equal("Program::Main", main.Symbol);
            Assert.Equal(0x42UL, main.Offset);
            Assert.Equal($"perf-{process.Id}.map", main.Module);
            Assert.Equal("[stub] LeakyCache::Add(int)", symbolizer.Symbolize(0x7f00000a0100).Symbol);
            Assert.Null(symbolizer.Symbolize(0x7f00000a0180).Symbol);

            // A JIT appends as it compiles; Refresh picks the new methods up.
            File.AppendAllText(perfMap, "7f00000b0000 10 Later::Compiled\n");
            Assert.Null(symbolizer.Symbolize(0x7f00000b0004).Symbol);
            symbolizer.Refresh();
            Assert.Equal("Later::Compiled", symbolizer.Symbolize(0x7f00000b0004).Symbol);
            Assert.Equal("Program::Main", symbolizer.Symbolize(0x7f00000a0042).Symbol);
        }
        finally
        {
            File.Delete(perfMap);
        }
    }

    [Fact]
    public void LibcMallocInThisProcessResolvesToMalloc()
    {
        IntPtr libc = NativeLibrary.Load("libc.so.6");
        ulong malloc = (ulong)NativeLibrary.GetExport(libc, "malloc");
        ulong free = (ulong)NativeLibrary.GetExport(libc, "free");
        using var symbolizer = new ProcessSymbolizer(Environment.ProcessId);

        StackFrame frame = symbolizer.Symbolize(malloc + 3);
        Assert.Equal("malloc", frame.Symbol);
        Assert.Equal(3UL, frame.Offset);
        Assert.Equal("libc.so.6", frame.Module);
        Assert.StartsWith("/", frame.ModulePath);
        Assert.Equal(FileOffsetOf(frame.ModulePath!, "malloc") + 3, frame.ModuleOffset);
        Assert.Equal("free", symbolizer.Symbolize(free).Symbol);
    }

    [Fact]
    public void RefreshPicksUpALibraryLoadedLater()
    {
        using var dir = SampleProcess.CreateTemporaryDirectory();
        string library = dir.CopySample("libsample.so", $"libsample-{Guid.NewGuid():N}.so");
        using var symbolizer = new ProcessSymbolizer(Environment.ProcessId);

        IntPtr handle = NativeLibrary.Load(library);
        ulong export = (ulong)NativeLibrary.GetExport(handle, "sample_library_alloc");
        Assert.NotEqual(Path.GetFileName(library), symbolizer.Symbolize(export).Module); // not in the first snapshot

        symbolizer.Refresh();
        StackFrame frame = symbolizer.Symbolize(export);
        Assert.Equal("sample_library_alloc", frame.Symbol);
        Assert.Equal(Path.GetFileName(library), frame.Module);
    }

    [Fact]
    public void SymbolTablesAreCachedByBuildIdAcrossSymbolizers()
    {
        IntPtr libc = NativeLibrary.Load("libc.so.6");
        ulong calloc = (ulong)NativeLibrary.GetExport(libc, "calloc");
        string libcPath;
        using (var first = new ProcessSymbolizer(Environment.ProcessId))
        {
            StackFrame frame = first.Symbolize(calloc);
            Assert.Equal("calloc", frame.Symbol);
            libcPath = frame.ModulePath!;
        }
        using ElfImage image = ElfImage.Open(libcPath);
        using ElfImage? debugFile = DebugFileLocator.Find(image, libcPath, null, new SymbolizerOptions().DebugDirectories);
        string key = SymbolTableCache.KeyFor(image, debugFile, libcPath, includeLines: true);
        Assert.StartsWith("build-id:" + image.BuildId, key);
        Assert.True(SymbolTableCache.TryGet(key, out ModuleSymbols? cached));

        using var second = new ProcessSymbolizer(Environment.ProcessId);
        Assert.Equal("calloc", second.Symbolize(calloc).Symbol);
        Assert.True(SymbolTableCache.TryGet(key, out ModuleSymbols? again));
        Assert.Same(cached, again);
    }

    [Fact]
    public void AddressOutsideAnyMappingKeepsItsAddress()
    {
        using var symbolizer = new ProcessSymbolizer(Environment.ProcessId);
        StackFrame frame = symbolizer.Symbolize(0x10);
        Assert.Null(frame.Symbol);
        Assert.Null(frame.Module);
        Assert.Equal("0x10", frame.ToString());
    }

    [Fact]
    public void MissingProcessIsAnArgumentError()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ProcessSymbolizer(int.MaxValue));
        Assert.Equal("pid", ex.ParamName);
    }

    [Fact]
    public void DefaultDebugDirectoriesIncludeTheEnvironmentVariable()
    {
        string? saved = Environment.GetEnvironmentVariable(SymbolizerOptions.DebugDirectoriesVariable);
        try
        {
            Environment.SetEnvironmentVariable(SymbolizerOptions.DebugDirectoriesVariable, "/opt/a/debug: /opt/b/debug:");
            var options = new SymbolizerOptions();
            Assert.Equal(new[] { "/usr/lib/debug", "/opt/a/debug", "/opt/b/debug" }, options.DebugDirectories);
        }
        finally
        {
            Environment.SetEnvironmentVariable(SymbolizerOptions.DebugDirectoriesVariable, saved);
        }
    }
}
