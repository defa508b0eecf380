using System;
using System.Collections.Generic;
using System.IO;

namespace LeakTools.Symbols;

/// <summary>
/// One module mapped by a target process. Its files (binary and debug file) are opened while the process
/// lives, so they stay readable after it exits or the file is deleted; symbol tables are parsed on first use
/// and then shared through <see cref="SymbolTableCache"/>.
/// </summary>
internal sealed class SymbolizerModule : IDisposable
{
    private readonly object _gate = new();
    private ElfImage? _binary;
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

        module._debugFile = module._binary.HasSymbolTable ? null
            : DebugFileLocator.Find(module._binary, modulePath, targetRoot, options.DebugDirectories, options.Verbose);
        module._cacheKey = SymbolTableCache.KeyFor(module._binary, module._debugFile, modulePath, module._includeLines);
        if (SymbolTableCache.TryGet(module._cacheKey, out ModuleSymbols? cached))
        {
            // Warm: nothing left to read, so release the files at once.
            module._symbols = cached;
            module.CloseFiles();
        }
        return module;
    }

    /// <summary>The parsed symbols, or null when the module could not be read.</summary>
    public ModuleSymbols? GetSymbols()
    {
        if (_symbols is { } ready) return ready;
        lock (_gate)
        {
            if (_symbols is not null || _binary is null || _cacheKey is null) return _symbols;
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
            CloseFiles();
            return _symbols;
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

    private void CloseFiles()
    {
        _binary?.Dispose();
        _debugFile?.Dispose();
        _binary = null;
        _debugFile = null;
    }
}
