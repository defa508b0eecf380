using System;
using System.Collections.Generic;
using System.IO;
using LeakTools.Model;
using LeakTools.Procfs;
using Microsoft.Win32.SafeHandles;

namespace LeakTools.Symbols;

/// <summary>
/// Symbolizes user-space addresses of one process. The constructor snapshots /proc/PID/maps and opens every
/// executable module through /proc/PID/map_files (deleted files, memfd) or /proc/PID/root (containers; resolved
/// inside that root by <see cref="TargetFileOpener"/>), so symbols still resolve after the process exits.
/// Anonymous executable memory is looked up in the JIT's /tmp/perf-PID.map as the target sees it.
/// </summary>
public sealed class ProcessSymbolizer : IDisposable
{
    private readonly SymbolizerOptions _options;
    private readonly string _procDirectory;
    private readonly string _targetRoot;
    private readonly object _gate = new();
    private readonly Dictionary<string, SymbolizerModule> _modules = new(StringComparer.Ordinal);
    // Maps plus, per mapping, its opened module and display name; replaced whole by Refresh, so a lookup
    // takes no lock and allocates nothing but its frame.
    private volatile MapsSnapshot _snapshot;
    private PerfMapSymbols? _perfMap;
    private (string Path, long Length, DateTime Modified) _perfMapVersion;
    private bool _disposed;
    private readonly bool _sharesMountNamespace;

    /// <summary>Takes the maps snapshot and opens the modules. Throws <see cref="ArgumentException"/> when no such process exists.</summary>
    public ProcessSymbolizer(int pid, SymbolizerOptions? options = null)
    {
        ProcessId = pid;
        _options = options ?? new SymbolizerOptions();
        _procDirectory = $"/proc/{pid}";
        SymbolizerMapping[] mappings;
        _targetRoot = $"/proc/{pid}/root";
        try
        {
            mappings = SymbolizerMapsReader.Read(pid);
        }
        catch (Exception ex) when (ex is ArgumentException || ProcessFiles.IsGone(ex, pid))
        {
            throw new ArgumentException($"No process with id {pid} exists (or it exited before its memory map could be read).", nameof(pid), ex);
        }
        NamespaceProcessId = ReadNamespacePid(pid) ?? pid;
        _sharesMountNamespace = SharesOurMountNamespace(pid);
        _snapshot = new MapsSnapshot(mappings, OpenModules(mappings));
        _perfMap = TryReadPerfMap();
    }

    public int ProcessId { get; }

    /// <summary>The process's id in its own pid namespace (last NSpid value); names its perf map inside a container.</summary>
    public int NamespaceProcessId { get; }

    /// <summary>
    /// Re-reads the maps (modules loaded by dlopen since) and the perf map. Modules already opened are kept, so
    /// once the process has exited this keeps the last snapshot instead of failing.
    /// </summary>
    public void Refresh()
    {
        SymbolizerMapping[] mappings;
        try
        {
            mappings = SymbolizerMapsReader.Read(ProcessId);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return; // exited: the snapshot and the opened files stay usable
        }
        if (mappings.Length == 0) return; // a zombie has an empty maps file
        _snapshot = new MapsSnapshot(mappings, OpenModules(mappings));
        PerfMapSymbols? perfMap = TryReadPerfMap();
        if (perfMap is not null) _perfMap = perfMap;
    }

    /// <summary>Symbolizes <paramref name="address"/> as an exact instruction address.</summary>
    public StackFrame Symbolize(ulong address) => Symbolize(address, isReturnAddress: false);

    /// <summary>
    /// Symbolizes a captured stack: the first entry is the instruction pointer (or, with
    /// <paramref name="firstIsReturnAddress"/>, a return address too, as in stacks that start at the allocator's
    /// direct caller), the others are return addresses.
    /// A return address is looked up one byte earlier, inside the call instruction, so a call that ends its
    /// function (to a noreturn callee) keeps its caller's name and the line is the call's line; the frame
    /// still shows the return address and its offset from that function ("child+0x4a").
    /// </summary>
    public StackFrame[] SymbolizeStack(IReadOnlyList<ulong> stack, bool firstIsReturnAddress = false)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var frames = new StackFrame[stack.Count];
        for (int i = 0; i < frames.Length; i++) frames[i] = Symbolize(stack[i], isReturnAddress: i > 0 || firstIsReturnAddress);
        return frames;
    }

    private StackFrame Symbolize(ulong address, bool isReturnAddress)
    {
        var frame = new StackFrame { Address = address };
        ulong lookup = isReturnAddress && address > 0 ? address - 1 : address;
        MapsSnapshot snapshot = _snapshot;
        SymbolizerMapping[] mappings = snapshot.Mappings;
        MappingInfo[] mappingInfo = snapshot.Info;
        int index = FindMapping(mappings, address);
        if (index >= 0 && mappings[index].IsFileBacked)
        {
            SymbolizerMapping mapping = mappings[index];
            ulong fileOffset = address - mapping.Start + mapping.Offset;
            frame.Module = mappingInfo[index].FileName;
            frame.ModulePath = mapping.Path;
            frame.ModuleOffset = fileOffset;
            ModuleSymbols? symbols = mappingInfo[index].Module?.GetSymbols();
            frame.BuildId = symbols?.BuildId;
            ulong lookupOffset = fileOffset - (address - lookup);
            if (symbols is not null && symbols.TryGetVirtualAddress(lookupOffset, out ulong virtualAddress)
                && symbols.Functions.TryFind(virtualAddress, out string name, out ulong offset))
            {
                frame.Symbol = name;
                frame.Offset = offset + (address - lookup);
                if (symbols.Lines.TryFind(virtualAddress, out string file, out int line))
                {
                    frame.File = file;
                    frame.Line = line;
                }
                return frame;
            }
            // Not ELF (a JIT's memfd double mapping) or no symbol: the perf map may still name it.
            if (symbols is null) TryPerfMap(frame, lookup);
            return frame;
        }

        if (TryPerfMap(frame, lookup)) return frame;

        if (index >= 0)
        {
            SymbolizerMapping mapping = mappings[index];
            frame.Module = mapping.Path.Length > 0 ? mapping.Path : "[anon]";
            frame.ModuleOffset = address - mapping.Start;
        }
        return frame;
    }

    /// <summary>The highest user-space address on x86-64 (47-bit address space); above it nothing is mapped for a process.</summary>
    internal const ulong MaxUserAddress = 0x0000_7fff_ffff_ffff;

    /// <summary>What <paramref name="address"/> holds in the current maps snapshot, and for module code where in the module.</summary>
    internal CodeLocation Locate(ulong address)
    {
        MapsSnapshot snapshot = _snapshot;
        int index = address <= MaxUserAddress ? FindMapping(snapshot.Mappings, address) : -1;
        if (index < 0) return new CodeLocation(CodeLocationKind.Unmapped, null, 0);
        SymbolizerMapping mapping = snapshot.Mappings[index];
        if (!mapping.IsExecutable) return new CodeLocation(CodeLocationKind.NotExecutable, null, 0);
        SymbolizerModule? module = snapshot.Info[index].Module;
        if (module is null || !mapping.IsFileBacked
            || !module.TryGetVirtualAddress(address - mapping.Start + mapping.Offset, out ulong virtualAddress))
            return new CodeLocation(CodeLocationKind.UnreadableCode, null, 0);
        return new CodeLocation(CodeLocationKind.ModuleCode, module, virtualAddress);
    }

    /// <summary>The run-time address of <paramref name="module"/>'s link-time address <paramref name="virtualAddress"/>, through a mapping of its file.</summary>
    internal bool TryGetRuntimeAddress(SymbolizerModule module, ulong virtualAddress, out ulong address)
    {
        address = 0;
        if (!module.TryGetFileOffset(virtualAddress, out ulong fileOffset)) return false;
        MapsSnapshot snapshot = _snapshot;
        for (int i = 0; i < snapshot.Mappings.Length; i++)
        {
            SymbolizerMapping mapping = snapshot.Mappings[i];
            if (!ReferenceEquals(snapshot.Info[i].Module, module) || fileOffset < mapping.Offset || fileOffset - mapping.Offset >= mapping.End - mapping.Start) continue;
            address = mapping.Start + (fileOffset - mapping.Offset);
            return true;
        }
        return false;
    }

    /// <summary>The modules of executable mappings, in address order (the executable first in a non-PIE process), each once.</summary>
    internal IEnumerable<SymbolizerModule> CodeModules()
    {
        MapsSnapshot snapshot = _snapshot;
        var seen = new HashSet<SymbolizerModule>();
        for (int i = 0; i < snapshot.Mappings.Length; i++)
            if (snapshot.Mappings[i].IsExecutable && snapshot.Info[i].Module is { } module && seen.Add(module)) yield return module;
    }

    /// <summary>JIT code lives in anonymous (or memfd) executable memory; its runtime names it in the perf map.</summary>
    private bool TryPerfMap(StackFrame frame, ulong lookup)
    {
        if (_perfMap is not { } perfMap || !perfMap.TryFind(lookup, out string name, out ulong offset)) return false;
        frame.Symbol = name;
        frame.Offset = offset + (frame.Address - lookup);
        frame.Module = System.IO.Path.GetFileName(perfMap.Path);
        frame.ModulePath = perfMap.Path;
        frame.ModuleOffset = frame.Offset;
        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (SymbolizerModule module in _modules.Values) module.Dispose();
            _modules.Clear();
        }
    }

    private MappingInfo[] OpenModules(SymbolizerMapping[] mappings)
    {
        // Open through the executable mappings (their map_files entry is what the process runs), then give
        // every mapping of the same file, readable-only ones too, the same module.
        foreach (SymbolizerMapping mapping in mappings)
        {
            if (!mapping.IsFileBacked || !mapping.IsExecutable) continue;
            string key = ModuleKey(mapping);
            lock (_gate)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(ProcessSymbolizer));
                if (_modules.ContainsKey(key)) continue;
            }
            SymbolizerModule module = SymbolizerModule.Open(mapping.Path, CandidatePaths(mapping), _targetRoot, _options);
            lock (_gate)
            {
                if (!_modules.TryAdd(key, module)) module.Dispose();
            }
        }

        var info = new MappingInfo[mappings.Length];
        lock (_gate)
        {
            for (int i = 0; i < mappings.Length; i++)
            {
                SymbolizerMapping mapping = mappings[i];
                SymbolizerModule? module = null;
                if (mapping.IsFileBacked) _modules.TryGetValue(ModuleKey(mapping), out module);
                info[i] = new MappingInfo(module, mapping.IsFileBacked ? System.IO.Path.GetFileName(mapping.Path) : mapping.Path);
            }
        }
        return info;
    }

    /// <summary>
    /// map_files first: it is the exact mapped file even when deleted or outside our mount namespace. Our own
    /// view of the path comes last and only when the target sees the same mounts; otherwise the same path
    /// could name another file (the host's libc instead of the container's).
    /// </summary>
    private IEnumerable<string> CandidatePaths(SymbolizerMapping mapping)
    {
        yield return $"{_procDirectory}/map_files/{mapping.Range}";
        if (mapping.Deleted) yield break;
        yield return _targetRoot + mapping.Path;
        if (_sharesMountNamespace) yield return mapping.Path;
    }

    internal static bool SharesOurMountNamespace(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            // The links read "mnt:[4026531841]": the same inode means the same namespace.
            string? theirs = new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget;
            string? ours = new FileInfo("/proc/self/ns/mnt").LinkTarget;
            return theirs is not null && theirs == ours;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string ModuleKey(SymbolizerMapping mapping) => $"{mapping.Device}:{mapping.Inode}:{mapping.Path}";

    private static int FindMapping(SymbolizerMapping[] mappings, ulong address)
    {
        int lo = 0, hi = mappings.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (address < mappings[mid].Start) hi = mid - 1;
            else if (address >= mappings[mid].End) lo = mid + 1;
            else return mid;
        }
        return -1;
    }

    private PerfMapSymbols? TryReadPerfMap()
    {
        // Inside the target's root under its own pid first (containers), then the host's /tmp under the host pid.
        string targetView = $"/tmp/perf-{NamespaceProcessId}.map";
        foreach ((string path, string shown) in new[] { (_targetRoot + targetView, targetView), ($"/tmp/perf-{ProcessId}.map", $"/tmp/perf-{ProcessId}.map") })
        {
            try
            {
                // Inside the target's root the path resolves as the target sees it; only a regular file, and a capped one.
                using SafeFileHandle handle = TargetFileOpener.Open(path, TargetFileOpener.MaxPerfMapBytes);
                long length = RandomAccess.GetLength(handle);
                var version = (path, length, File.GetLastWriteTimeUtc(handle));
                if (_perfMap is not null && version == _perfMapVersion) return _perfMap; // unchanged since the last read
                // Read to the length it had at open: a map that grows meanwhile cannot keep the read going.
                using var reader = new StreamReader(new MemoryStream(TargetFileOpener.ReadAll(handle, TargetFileOpener.MaxPerfMapBytes)));
                PerfMapSymbols symbols = PerfMapSymbols.Parse(reader, shown);
                _perfMapVersion = version;
                return symbols;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Absent or unreadable here (or no regular file): try the other view.
            }
        }
        return null;
    }

    /// <summary>The last NSpid entry of /proc/PID/status, or null when it is unreadable or the kernel predates NSpid.</summary>
    internal static int? ReadNamespacePid(int pid)
    {
        try { return ProcessFiles.TryReadStatus(pid)?.InnermostProcessId; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ProcfsFormatException) { return null; }
    }

    private readonly record struct MappingInfo(SymbolizerModule? Module, string FileName);

    private sealed record MapsSnapshot(SymbolizerMapping[] Mappings, MappingInfo[] Info);
}
