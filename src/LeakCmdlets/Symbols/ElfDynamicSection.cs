using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace LeakTools.Symbols;

/// <summary>
/// What an ELF file's dynamic section says about linking: the libraries it needs (DT_NEEDED, in order) and its own
/// name (DT_SONAME). The allocator detection walks these names as the dynamic linker does. A file without a
/// .dynamic section (a static binary) has neither.
/// </summary>
internal sealed record ElfDynamicSection(string? SharedObjectName, IReadOnlyList<string> Needed)
{
    private const long TagNull = 0, TagNeeded = 1, TagSharedObjectName = 14;
    private const int EntrySize = 16;   // Elf64_Dyn: d_tag, d_val

    /// <summary>Reads the .dynamic section through its string table (.dynstr). Throws InvalidDataException for a corrupt file.</summary>
    public static ElfDynamicSection Read(ElfImage image)
    {
        byte[]? dynamic = image.ReadSectionContents(".dynamic");
        if (dynamic is null) return new ElfDynamicSection(null, Array.Empty<string>());
        byte[] strings = image.ReadSectionContents(".dynstr") ?? Array.Empty<byte>();
        var needed = new List<string>();
        string? soname = null;
        for (int at = 0; at + EntrySize <= dynamic.Length; at += EntrySize)
        {
            long tag = BinaryPrimitives.ReadInt64LittleEndian(dynamic.AsSpan(at));
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(dynamic.AsSpan(at + 8));
            if (tag == TagNull) break;
            if (tag == TagNeeded) needed.Add(StringAt(strings, value));
            else if (tag == TagSharedObjectName) soname = StringAt(strings, value);
        }
        return new ElfDynamicSection(soname, needed);
    }

    private static string StringAt(byte[] table, ulong offset)
    {
        if (offset >= (ulong)table.Length) return string.Empty;
        int end = Array.IndexOf(table, (byte)0, (int)offset);
        return Encoding.UTF8.GetString(table, (int)offset, (end < 0 ? table.Length : end) - (int)offset);
    }
}
