using System;
using System.Collections.Generic;

namespace LeakTools.Symbols;

/// <summary>
/// Everything needed to symbolize one module once its files are read: the binary's PT_LOAD layout (file offset
/// to link-time address) and its function symbols merged from the separate debug file and the binary.
/// Holds no file handles, so it can live in the process-wide cache.
/// </summary>
internal sealed class ModuleSymbols
{
    private readonly ElfImage.LoadSegment[] _segments;

    private ModuleSymbols(ElfImage.LoadSegment[] segments, FunctionSymbolTable functions, DwarfLineTable lines, string? buildId, string? debugFilePath)
    {
        _segments = segments;
        Functions = functions;
        Lines = lines;
        BuildId = buildId;
        DebugFilePath = debugFilePath;
    }

    public FunctionSymbolTable Functions { get; }

    /// <summary>Source lines from .debug_line of the debug file (or the binary); empty when not asked for or absent.</summary>
    public DwarfLineTable Lines { get; }

    public string? BuildId { get; }

    /// <summary>The separate debug file whose symbols were merged in, if one was found.</summary>
    public string? DebugFilePath { get; }

    public static ModuleSymbols Build(ElfImage binary, ElfImage? debugFile, bool includeLines = false)
    {
        // Read while the files are open: the cached result keeps no handles.
        DwarfLineTable lines = includeLines ? DwarfLineTable.Load(debugFile ?? binary) : DwarfLineTable.Empty;
        var images = new List<ElfImage>(2);
        if (debugFile is not null) images.Add(debugFile); // its .symtab is the complete one
        images.Add(binary);
        return new ModuleSymbols(binary.LoadSegments.ToArray(), FunctionSymbolTable.Build(images), lines, binary.BuildId, debugFile?.Path);
    }

    /// <summary>Maps a file offset (from a mapping's pgoff) to the link-time virtual address the symbols use.</summary>
    public bool TryGetVirtualAddress(ulong fileOffset, out ulong virtualAddress) =>
        ElfImage.TryTranslate(_segments, fileOffset, toFileOffset: false, out virtualAddress);
}
