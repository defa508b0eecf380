using System;
using System.Collections.Generic;
using System.IO;

namespace LeakTools.Symbols;

/// <summary>
/// One module mapped by a target process. Its files (binary and debug file) are opened while the process
/// lives, so they stay readable after it exits or the file is deleted; symbol tables are parsed on first use
/// and then shared through <see cref="SymbolTableCache"/>. The binary stays open after that (one descriptor per
/// module) for its code bytes and dynamic relocations, which the stack checks read (see Stacks/ReturnSiteReader).
/// </summary>
internal sealed class SymbolizerModule : IDisposable
{
    private readonly object _gate = new();
    private ElfImage? _binary;
    private ElfImage.LoadSegment[] _segments = Array.Empty<ElfImage.LoadSegment>();
    private Dictionary<ulong, ElfRelocation>? _relocations;
    private readonly Dictionary<string, ElfFunction?> _exports = new(StringComparer.Ordinal);
    private ElfImage? _debugFile;
    private volatile ModuleSymbols? _symbols;
    private string? _cacheKey;
    private bool _includeLines;
    private Action<string>? _verbose;

    private SymbolizerModule(string modulePath)
    {
        ModulePath = modulePath;
        FileName = Path.GetFileName(modulePath);
    }

    /// <summary>The path as the target sees it.</summary>
    public string ModulePath { get; }

    public string FileName { get; }

    /// <summary>Why the module has no symbols (not ELF, unreadable), or null.</summary>
    public string? Error { get; private set; }

    /// <summary>Path the binary was actually read from (map_files entry, the target's root, or the host path).</summary>
    public string? OpenedPath { get; private set; }

    /// <summary>Opens the module through each of <paramref name="candidatePaths"/> in turn and locates its debug file.</summary>
    public static SymbolizerModule Open(string modulePath, IEnumerable<string> candidatePaths, string? targetRoot, SymbolizerOptions options)
    {
        var module = new SymbolizerModule(modulePath) { _includeLines = options.IncludeSourceLines, _verbose = options.Verbose };
        var errors = new List<string>();
        foreach (string candidate in candidatePaths)
        {
            try
            {
                module._binary = ElfImage.Open(candidate);
                module.OpenedPath = candidate;
                break;
            }
            catch (InvalidDataException ex)
            {
                // The file is there but is no ELF image: other candidates name the same file.
                module.Fail(ex.Message);
                return module;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors.Add($"{candidate}: {ex.Message}");
            }
        }
        if (module._binary is null)
        {
            module.Fail("Could not open the module: " + string.Join("; ", errors));
            return module;
        }

        module._segments = module._binary.LoadSegments.ToArray();
        module._debugFile = module._binary.HasSymbolTable ? null
            : DebugFileLocator.Find(module._binary, modulePath, targetRoot, options.DebugDirectories, options.Verbose);
        module._cacheKey = SymbolTableCache.KeyFor(module._binary, module._debugFile, modulePath, module._includeLines);
        if (SymbolTableCache.TryGet(module._cacheKey, out ModuleSymbols? cached))
        {
            // Warm: no symbols left to read, so release the debug file at once (the binary serves code reads).
            module._symbols = cached;
            module.CloseDebugFile();
        }
        return module;
    }

    /// <summary>The parsed symbols, or null when the module could not be read.</summary>
    public ModuleSymbols? GetSymbols()
    {
        if (_symbols is { } ready) return ready;
        lock (_gate)
        {
            // Error: the symbols failed once (the binary stays open for code reads; they are not read again).
            if (_symbols is not null || _binary is null || _cacheKey is null || Error is not null) return _symbols;
            ElfImage binary = _binary;
            ElfImage? debugFile = _debugFile;
            bool includeLines = _includeLines;
            try
            {
                _symbols = SymbolTableCache.GetOrAdd(_cacheKey, () => ModuleSymbols.Build(binary, debugFile, includeLines));
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // A corrupt symbol table (in a container's file, say) costs this module its names, nothing more.
                Fail(ex.Message);
            }
            CloseDebugFile();
            return _symbols;
        }
    }

    /// <summary>Maps a file offset (from a mapping's pgoff) to the link-time virtual address; false when no PT_LOAD holds it.</summary>
    public bool TryGetVirtualAddress(ulong fileOffset, out ulong virtualAddress) =>
        ElfImage.TryTranslate(_segments, fileOffset, toFileOffset: false, out virtualAddress);

    /// <summary>Maps a link-time virtual address to its file offset; false when no PT_LOAD holds it.</summary>
    public bool TryGetFileOffset(ulong virtualAddress, out ulong fileOffset) =>
        ElfImage.TryTranslate(_segments, virtualAddress, toFileOffset: true, out fileOffset);

    /// <summary>
    /// Reads the module's bytes (as loaded) at link-time address <paramref name="virtualAddress"/> into
    /// <paramref name="buffer"/>; the count read is fewer when the segment ends first. False when the file is closed,
    /// unreadable or holds no such address.
    /// </summary>
    public bool TryReadCode(ulong virtualAddress, Span<byte> buffer, out int count)
    {
        count = 0;
        lock (_gate)
        {
            if (_binary is null) return false;
            try
            {
                byte[] bytes = _binary.ReadAtVirtualAddress(virtualAddress, buffer.Length);
                bytes.CopyTo(buffer);
                count = bytes.Length;
                return true;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentOutOfRangeException)
            {
                return false;
            }
        }
    }

    /// <summary>The dynamic relocation that fills the slot at link-time address <paramref name="slot"/> (a GOT entry), if any.</summary>
    public bool TryGetRelocation(ulong slot, out ElfRelocation relocation)
    {
        lock (_gate)
        {
            if (_relocations is null)
            {
                _relocations = new Dictionary<ulong, ElfRelocation>();
                try
                {
                    if (_binary is not null)
                        foreach (ElfRelocation r in _binary.ReadDynamicRelocations()) _relocations.TryAdd(r.Offset, r);
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    _verbose?.Invoke($"Cannot read the dynamic relocations of {ModulePath}: {ex.Message} Calls through its GOT stay unresolved.");
                }
            }
            return _relocations.TryGetValue(slot, out relocation);
        }
    }

    /// <summary>The function this module defines under <paramref name="name"/> (its .symtab or .dynsym), if any.</summary>
    public bool TryFindExport(string name, out ElfFunction function)
    {
        lock (_gate)
        {
            if (!_exports.TryGetValue(name, out ElfFunction? found))
            {
                found = null;
                try
                {
                    if (_binary is not null && _binary.TryFindFunction(name, out ElfFunction f)) found = f;
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    // Unreadable symbols: the name is not known to be here.
                }
                _exports[name] = found;
            }
            function = found ?? default;
            return found is not null;
        }
    }

    /// <summary>Records why the module has no symbols and says so once; its frames stay unnamed.</summary>
    private void Fail(string reason)
    {
        Error = reason;
        _verbose?.Invoke($"No symbols for {ModulePath}: {reason} Its frames stay unnamed.");
    }

    public void Dispose()
    {
        lock (_gate) CloseFiles();
    }

    private void CloseDebugFile()
    {
        _debugFile?.Dispose();
        _debugFile = null;
    }

    private void CloseFiles()
    {
        _binary?.Dispose();
        _debugFile?.Dispose();
        _binary = null;
        _debugFile = null;
    }
}
