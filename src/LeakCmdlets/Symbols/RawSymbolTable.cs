using System;
using System.Buffers.Binary;

namespace LeakTools.Symbols;

/// <summary>The undecoded bytes of one ELF symbol table, its string table and (for .dynsym) its .gnu.version array.</summary>
internal readonly struct RawSymbolTable
{
    public RawSymbolTable(byte[] symbols, byte[] strings, byte[]? versions, string[]? versionNames = null)
    {
        VersionNames = versionNames;
        Symbols = symbols;
        Strings = strings;
        Versions = versions;
    }

    public byte[] Symbols { get; }

    public byte[] Strings { get; }

    public byte[]? Versions { get; }

    /// <summary>Names of version definitions by index (.gnu.version_d), when present.</summary>
    public string[]? VersionNames { get; }

    public int Count => Symbols.Length / ElfImage.SymbolSize;

    /// <summary>Decodes symbol <paramref name="index"/> (st_name, st_info, st_shndx, st_value, st_size).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ElfSymbol SymbolAt(int index)
    {
        ReadOnlySpan<byte> sym = Symbols.AsSpan(index * ElfImage.SymbolSize, ElfImage.SymbolSize);
        byte info = sym[4];
        return new ElfSymbol(
            BinaryPrimitives.ReadUInt32LittleEndian(sym),
            (byte)(info & 0xf),
            (info >> 4) == 0,
            BinaryPrimitives.ReadUInt16LittleEndian(sym[6..]),
            BinaryPrimitives.ReadUInt64LittleEndian(sym[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(sym[16..]));
    }

    /// <summary>The NUL-terminated name at <paramref name="offset"/>; empty when the offset is out of range.</summary>
    public ReadOnlySpan<byte> NameAt(uint offset)
    {
        if (offset >= Strings.Length) return ReadOnlySpan<byte>.Empty;
        ReadOnlySpan<byte> rest = Strings.AsSpan((int)offset);
        int end = rest.IndexOf((byte)0);
        return end < 0 ? rest : rest[..end];
    }

    /// <summary>True when .gnu.version marks symbol <paramref name="index"/> as a non-default ("@" rather than "@@") version.</summary>
    public bool IsHiddenVersion(int index)
    {
        if (Versions is null || (index + 1) * 2 > Versions.Length) return false;
        return (BinaryPrimitives.ReadUInt16LittleEndian(Versions.AsSpan(index * 2)) & 0x8000) != 0;
    }

    /// <summary>"name@@VER" or "name@VER" for a .dynsym entry with a defined version; null otherwise.</summary>
    public string? VersionedName(int index, ReadOnlySpan<byte> name)
    {
        if (Versions is null || VersionNames is null || (index + 1) * 2 > Versions.Length) return null;
        ushort raw = BinaryPrimitives.ReadUInt16LittleEndian(Versions.AsSpan(index * 2));
        int version = raw & 0x7fff;
        if (version < 2 || version >= VersionNames.Length || VersionNames[version] is null) return null;
        return System.Text.Encoding.UTF8.GetString(name) + ((raw & 0x8000) != 0 ? "@" : "@@") + VersionNames[version];
    }
}
