using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using LeakTools.Bpf;
using LeakTools.Procfs;
using LeakTools.Symbols;

namespace LeakTools.Unwinding;

/// <summary>
/// Keeps the unwind maps of one traced process current (native/memleak.bpf.c walks them in capture_user_stack):
/// a table per executable module, written once into the memory-mapped row and page arrays, and the list of the
/// process's executable mappings with the table each one uses. Called at attach and at every look of
/// <c>Targets.TargetModules</c> (dlopen, and a stack that ended in code no table knew).
/// </summary>
/// <remarks>
/// Publication order makes a half-written table invisible: rows and pages first, then the module entry, then the
/// mapping list in the half the BPF side is not reading, then the one 8-byte store that switches halves.
/// </remarks>
internal sealed class UnwindTableLoader : IDisposable
{
    private readonly int _pid;
    private readonly Action<string>? _verbose;
    private readonly IEnumerable<string> _debugDirectories;
    private readonly BpfArrayMapping _rows, _pages, _modules, _mappings, _state;
    // Per file (device, inode, path): index in unwind_modules + 1, or 0 for a module without a table.
    private readonly Dictionary<string, uint> _moduleOfFile = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private int _rowsUsed, _pagesUsed, _modulesUsed;
    // Per mapping (range, offset, file): its module and load bias, so a look at unchanged mappings opens no file.
    private readonly Dictionary<string, (uint Module, ulong Bias)> _mappingModules = new(StringComparer.Ordinal);
    private bool _published;
    private bool _disposed;

    public UnwindTableLoader(BpfObject bpf, int pid, IEnumerable<string> debugDirectories, Action<string>? verbose)
    {
        _pid = pid;
        _verbose = verbose;
        _debugDirectories = debugDirectories;
        _rows = bpf.MapArray("unwind_rows", sizeof(ulong));
        _pages = bpf.MapArray("unwind_pages", sizeof(ulong));
        _modules = bpf.MapArray("unwind_modules", System.Runtime.CompilerServices.Unsafe.SizeOf<MemleakAbi.UnwindModule>());
        _mappings = bpf.MapArray("unwind_mappings", System.Runtime.CompilerServices.Unsafe.SizeOf<MemleakAbi.UnwindMapping>());
        _state = bpf.MapArray("unwind_state", System.Runtime.CompilerServices.Unsafe.SizeOf<MemleakAbi.UnwindState>());
    }

    /// <summary>Rows written so far (all modules).</summary>
    public int RowsUsed => _rowsUsed;

    /// <summary>Time spent building and writing tables so far.</summary>
    public TimeSpan BuildTime { get; private set; }

    /// <summary>Reads the process's mappings, adds the tables of modules not seen yet, and publishes the new list.</summary>
    public void Refresh()
    {
        SymbolizerMapping[] mappings;
        try
        {
            mappings = SymbolizerMapsReader.Read(_pid);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;   // exited: the published list stays as it was
        }
        lock (_gate)
        {
            if (_disposed) return;
            var elapsed = Stopwatch.StartNew();
            var list = new List<MemleakAbi.UnwindMapping>();
            foreach (SymbolizerMapping mapping in mappings)
            {
                if (!mapping.IsExecutable) continue;
                if (list.Count == MemleakAbi.UnwindMaxMappings)
                {
                    _verbose?.Invoke($"Unwind tables: process {_pid} has more than {MemleakAbi.UnwindMaxMappings} executable mappings; stacks through the rest end there.");
                    break;
                }
                uint module = 0;
                ulong bias = 0;
                if (mapping.IsFileBacked)
                {
                    string key = $"{mapping.Range}:{mapping.Offset:x}:{mapping.Device}:{mapping.Inode}:{mapping.Path}";
                    if (!_mappingModules.TryGetValue(key, out var known)) _mappingModules[key] = known = ModuleOf(mapping);
                    (module, bias) = known;
                }
                list.Add(new MemleakAbi.UnwindMapping { Start = mapping.Start, End = mapping.End, Bias = bias, Module = module });
            }
            Publish(list.ToArray());
            BuildTime += elapsed.Elapsed;
        }
    }

    private (uint Module, ulong Bias) ModuleOf(SymbolizerMapping mapping)
    {
        string key = $"{mapping.Device}:{mapping.Inode}:{mapping.Path}";
        ElfImage? image = null;
        try
        {
            image = Open(mapping);
            if (image is null) return (0, 0);
            if (!image.TryGetVirtualAddress(mapping.Offset, out ulong moduleAddress)) return (0, 0);
            ulong bias = mapping.Start - moduleAddress;
            if (!_moduleOfFile.TryGetValue(key, out uint module))
            {
                module = Load(image, mapping.Path);
                _moduleOfFile[key] = module;
            }
            return (module, bias);
        }
        finally
        {
            image?.Dispose();
        }
    }

    private ElfImage? Open(SymbolizerMapping mapping)
    {
        foreach (string candidate in new[] { $"/proc/{_pid}/map_files/{mapping.Range}", $"/proc/{_pid}/root{mapping.Path}" })
        {
            try
            {
                return ElfImage.Open(candidate);
            }
            catch (InvalidDataException ex)
            {
                _verbose?.Invoke($"Unwind tables: {mapping.Path} is not a readable ELF file ({ex.Message}); stacks through it take frame-pointer steps.");
                return null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // the next candidate names the same file another way
            }
        }
        return null;
    }

    /// <summary>Writes the table of <paramref name="image"/> (built, or from the session's cache) and returns its module number, 0 when it has none.</summary>
    private uint Load(ElfImage image, string path)
    {
        UnwindTable? table;
        if (image.BuildId is null || !UnwindTableCache.TryGet(image.BuildId, out table))
        {
            try
            {
                table = UnwindTable.Build(image);
                if (table is null)
                {
                    using ElfImage? debugFile = DebugFileLocator.Find(image, path, $"/proc/{_pid}/root", _debugDirectories, _verbose);
                    if (debugFile is not null) table = UnwindTable.Build(image, debugFile);
                }
            }
            catch (InvalidDataException ex)
            {
                _verbose?.Invoke($"Unwind tables: the call frame information of {path} is malformed ({ex.Message}); stacks through it take frame-pointer steps.");
                table = null;
            }
            if (image.BuildId is not null) UnwindTableCache.Add(image.BuildId, table);
        }
        if (table is null) return 0;
        if (_modulesUsed >= _modules.Entries || _rowsUsed + table.Rows.Length > _rows.Entries || _pagesUsed + table.Pages.Length > _pages.Entries)
        {
            _verbose?.Invoke($"Unwind tables: no room left for the {table.Rows.Length} rows of {path} ({_rowsUsed} of {_rows.Entries} rows used); stacks through it take frame-pointer steps.");
            return 0;
        }
        table.Rows.AsSpan().CopyTo(_rows.Elements<ulong>()[_rowsUsed..]);
        Span<ulong> pages = _pages.Elements<ulong>()[_pagesUsed..];
        for (int i = 0; i < table.Pages.Length; i++) pages[i] = table.Pages[i] + (uint)_rowsUsed;   // the low half is the row index
        _modules.Elements<MemleakAbi.UnwindModule>()[_modulesUsed] = new MemleakAbi.UnwindModule
        {
            FirstPage = (uint)_pagesUsed,
            PageCount = (uint)table.Pages.Length,
            PageBase = table.PageBase,
        };
        _rowsUsed += table.Rows.Length;
        _pagesUsed += table.Pages.Length;
        _verbose?.Invoke($"Unwind tables: {path}: {table.Rows.Length} rows from {table.Source} ({table.SizeBytes / 1024} KiB).");
        return (uint)++_modulesUsed;
    }

    private void Publish(MemleakAbi.UnwindMapping[] list)
    {
        Span<MemleakAbi.UnwindState> state = _state.Elements<MemleakAbi.UnwindState>();
        uint next = _published ? 1u - state[0].Active : 0u;
        list.AsSpan().CopyTo(_mappings.Elements<MemleakAbi.UnwindMapping>()[(int)(next * MemleakAbi.UnwindMaxMappings)..]);
        Interlocked.MemoryBarrier();
        // One 8-byte store: a walk reads the half and its count together.
        Span<ulong> word = System.Runtime.InteropServices.MemoryMarshal.Cast<MemleakAbi.UnwindState, ulong>(state);
        Volatile.Write(ref word[0], next | (ulong)(uint)list.Length << 32);
        _published = true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _rows.Dispose();
            _pages.Dispose();
            _modules.Dispose();
            _mappings.Dispose();
            _state.Dispose();
        }
    }
}
