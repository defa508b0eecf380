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

    private ModuleSymbols(ElfImage.LoadSegment[] segments, FunctionSymbolTable functions, string? buildId, string? debugFilePath)
    {
        _segments = segments;
        Functions = functions;
        BuildId = buildId;
        DebugFilePath = debugFilePath;
    }

    public FunctionSymbolTable Functions { get; }

    public string? BuildId { get; }

    /// <summary>The separate debug file whose symbols were merged in, if one was found.</summary>
    public string? DebugFilePath { get; }

    public static ModuleSymbols Build(ElfImage binary, ElfImage? debugFile)
    {
        var images = new List<ElfImage>(2);
        if (debugFile is not null) images.Add(debugFile); // its .symtab is the complete one
        images.Add(binary);
        var segments = new ElfImage.LoadSegment[binary.LoadSegments.Count];
        for (int i = 0; i < segments.Length; i++) segments[i] = binary.LoadSegments[i];
        return new ModuleSymbols(segments, FunctionSymbolTable.Build(images), binary.BuildId, debugFile?.Path);
    }

    /// <summary>Maps a file offset (from a mapping's pgoff) to the link-time virtual address the symbols use.</summary>
    public bool TryGetVirtualAddress(ulong fileOffset, out ulong virtualAddress)
    {
        foreach (ElfImage.LoadSegment s in _segments)
        {
            if (fileOffset >= s.Offset && fileOffset - s.Offset < Math.Max(s.FileSize, 1))
            {
                virtualAddress = s.VirtualAddress + (fileOffset - s.Offset);
                return true;
            }
        }
        virtualAddress = 0;
        return false;
    }
}
