using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using LeakTools.Procfs;
using Microsoft.Win32.SafeHandles;

namespace LeakTools.Symbols;

/// <summary>
/// A 64-bit little-endian ELF file opened for symbol lookup. Opening reads only the headers, notes and the
/// debug link; symbol tables are read on demand with positioned reads, never the whole file.
/// </summary>
/// <remarks>
/// Hand-parsed rather than ELFSharp: measured on a PIE with 120k functions, ELFSharp's Load took 119 ms and
/// allocated 50 MB (it materializes every section and symbol object up front) for a 4.3 MB file, where symbol
/// lookup needs only the raw .symtab/.strtab bytes. Positioned reads on an open handle also keep working after
/// the file was deleted or the process that mapped it exited, and never fault like a memory map of a truncated file.
/// </remarks>
public sealed class ElfImage : IDisposable
{
    internal const uint SectionTypeSymbolTable = 2;
    internal const uint SectionTypeRelocationsWithAddends = 4;
    internal const uint SectionTypeNote = 7;
    internal const uint SectionTypeNoBits = 8;
    internal const uint SectionTypeDynamicSymbols = 11;
    internal const uint SectionTypeVersionSymbols = 0x6fffffff;
    internal const uint SectionTypeVersionDefinitions = 0x6ffffffd;
    private const ulong SectionFlagCompressed = 0x800;
    private const uint CompressionTypeZlib = 1;
    private const uint SegmentTypeLoad = 1;
    private const uint SegmentTypeNote = 4;
    private const ushort FileTypeSharedObject = 3;
    private const uint NoteTypeGnuBuildId = 3;
    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const int SectionHeaderSize = 64;
    internal const int SymbolSize = 24;
    internal const byte SymbolTypeFunction = 2;
    internal const byte SymbolTypeIndirectFunction = 10;

    private readonly SafeFileHandle _handle;
    private readonly bool _ownsHandle;
    private readonly long _length;
    private readonly LoadSegment[] _loadSegments;
    private readonly SectionHeader[] _sections;
    private readonly string[] _sectionNames;
    private RawSymbolTable?[]? _symbolTables;

    private ElfImage(SafeFileHandle handle, bool ownsHandle, string path)
    {
        _handle = handle;
        _ownsHandle = ownsHandle;
        Path = path;
        _length = RandomAccess.GetLength(handle);
        if (_length == 0) throw new InvalidDataException($"'{path}' is empty, not an ELF file.");
        // Checked at open too; a file that grew since is still not read past the cap.
        if (_length > TargetFileOpener.MaxElfFileBytes)
            throw new InvalidDataException($"'{path}' is {_length} bytes, more than the {TargetFileOpener.MaxElfFileBytes >> 20} MiB read at most from an ELF file.");

        byte[] header = ReadBytes(0, (int)Math.Min(HeaderSize, _length), "ELF header");
        if (header.Length < 16 || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
            throw new InvalidDataException($"'{path}' is not an ELF file (bad magic).");
        if (header[4] != 2) throw new InvalidDataException($"'{path}' is a 32-bit ELF file; only 64-bit ELF is supported.");
        if (header[5] != 1) throw new InvalidDataException($"'{path}' is a big-endian ELF file; only little-endian ELF is supported.");
        if (header.Length < HeaderSize) throw Truncated("ELF header", 0, HeaderSize);

        ReadOnlySpan<byte> h = header;
        FileType = BinaryPrimitives.ReadUInt16LittleEndian(h[16..]);
        Machine = BinaryPrimitives.ReadUInt16LittleEndian(h[18..]);
        EntryPoint = BinaryPrimitives.ReadUInt64LittleEndian(h[24..]);
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(h[32..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(h[40..]);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(h[54..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(h[56..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(h[58..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(h[60..]);
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(h[62..]);

        var loads = new List<LoadSegment>();
        var noteSegments = new List<(ulong Offset, ulong Size)>();
        if (phnum > 0)
        {
            if (phentsize < ProgramHeaderSize) throw new InvalidDataException($"'{path}' has a bad program header size {phentsize}.");
            if ((long)phnum * phentsize > _length) throw Truncated("program headers", phoff, int.MaxValue);
            byte[] table = ReadBytes(phoff, phnum * phentsize, "program headers");
            for (int i = 0; i < phnum; i++)
            {
                ReadOnlySpan<byte> p = table.AsSpan(i * phentsize, ProgramHeaderSize);
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(p);
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
                ulong fileSize = BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
                if (type == SegmentTypeLoad)
                {
                    loads.Add(new LoadSegment(
                        BinaryPrimitives.ReadUInt64LittleEndian(p[16..]), offset, fileSize,
                        BinaryPrimitives.ReadUInt64LittleEndian(p[40..]), BinaryPrimitives.ReadUInt32LittleEndian(p[4..])));
                }
                else if (type == SegmentTypeNote)
                {
                    noteSegments.Add((offset, fileSize));
                }
            }
        }
        _loadSegments = loads.ToArray();

        _sections = ReadSectionHeaders(shoff, shentsize, shnum, ref shstrndx);
        _sectionNames = new string[_sections.Length];
        if (_sections.Length > 0 && shstrndx > 0 && shstrndx < _sections.Length && _sections[shstrndx].Type != SectionTypeNoBits)
        {
            byte[] names = ReadSection(_sections[shstrndx], ".shstrtab");
            for (int i = 0; i < _sections.Length; i++) _sectionNames[i] = ReadString(names, _sections[i].NameOffset);
        }
        else
        {
            Array.Fill(_sectionNames, string.Empty);
        }

        BuildId = FindBuildId(noteSegments);
        int debugLinkIndex = FindSection(".gnu_debuglink");
        if (debugLinkIndex >= 0 && _sections[debugLinkIndex].Type != SectionTypeNoBits)
        {
            byte[] link = ReadSection(_sections[debugLinkIndex], ".gnu_debuglink");
            int end = Array.IndexOf(link, (byte)0);
            if (end > 0)
            {
                DebugLink = Encoding.UTF8.GetString(link, 0, end);
                int crcOffset = (end + 4) & ~3;
                if (crcOffset + 4 <= link.Length) DebugLinkCrc = BinaryPrimitives.ReadUInt32LittleEndian(link.AsSpan(crcOffset));
            }
        }
    }

    /// <summary>
    /// Opens and validates <paramref name="path"/>. Throws <see cref="InvalidDataException"/> for anything that is not
    /// a readable 64-bit ELF file, an <see cref="IOException"/> for a missing file, one that is no regular file or
    /// one larger than <see cref="TargetFileOpener.MaxElfFileBytes"/>. A path under /proc/PID/root resolves inside that root.
    /// </summary>
    public static ElfImage Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromHandle(TargetFileOpener.Open(path, TargetFileOpener.MaxElfFileBytes), path);
    }

    /// <summary>
    /// Opens <paramref name="path"/> inside the directory <paramref name="root"/> (a target's /proc/PID/root), resolved
    /// as the target would resolve it: no symlink leads out of the root. Throws as <see cref="Open(string)"/> does.
    /// </summary>
    public static ElfImage OpenInRoot(string root, string path)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(path);
        return FromHandle(TargetFileOpener.OpenInRoot(root, path, TargetFileOpener.MaxElfFileBytes), root.TrimEnd('/') + path);
    }

    private static ElfImage FromHandle(SafeFileHandle handle, string path)
    {
        try
        {
            return new ElfImage(handle, ownsHandle: true, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Path the image was opened from.</summary>
    public string Path { get; }

    /// <summary>Lowercase hex of the NT_GNU_BUILD_ID note, or null when the file has none.</summary>
    public string? BuildId { get; }

    /// <summary>File name stored in .gnu_debuglink, or null.</summary>
    public string? DebugLink { get; }

    /// <summary>CRC32 stored after the .gnu_debuglink name: the debug file it names must have this CRC.</summary>
    public uint? DebugLinkCrc { get; }

    /// <summary>The CRC32 of this whole file, to compare with a stripped binary's <see cref="DebugLinkCrc"/>.</summary>
    internal uint ComputeFileCrc() => GnuDebugLinkCrc.OfFile(_handle, _length);

    /// <summary>ET_DYN: a PIE or shared object, loaded at a bias chosen at run time.</summary>
    public bool IsPositionIndependent => FileType == FileTypeSharedObject;

    public ushort FileType { get; }

    /// <summary>e_machine (62 = x86-64).</summary>
    public ushort Machine { get; }

    public ulong EntryPoint { get; }

    /// <summary>File size in bytes.</summary>
    public long Length => _length;

    /// <summary>Modification time of the opened file (part of the cache key when there is no build-id).</summary>
    public DateTime LastWriteTimeUtc => File.GetLastWriteTimeUtc(_handle);

    /// <summary>True when the file has a .symtab with content (not stripped, or a separate debug file).</summary>
    public bool HasSymbolTable
    {
        get
        {
            foreach (SectionHeader s in _sections)
                if (s.Type == SectionTypeSymbolTable && s.Size >= SymbolSize) return true;
            return false;
        }
    }

    /// <summary>
    /// Finds a defined function in .symtab, then .dynsym. "malloc" matches "malloc", "malloc@@GLIBC_2.2.5" and
    /// "malloc@GLIBC_2.2.5" (the default version preferred); a versioned query matches its base name too.
    /// </summary>
    public bool TryFindFunction(string name, out ElfFunction function)
    {
        ArgumentNullException.ThrowIfNull(name);
        int at = name.IndexOf('@');
        string baseName = at >= 0 ? name[..at] : name;
        byte[] wanted = Encoding.UTF8.GetBytes(baseName);
        byte[] wantedFull = Encoding.UTF8.GetBytes(name);

        ElfFunction? best = null;
        int bestRank = int.MaxValue;
        foreach (uint tableType in stackalloc uint[] { SectionTypeSymbolTable, SectionTypeDynamicSymbols })
        {
            for (int i = 0; i < _sections.Length; i++)
            {
                if (_sections[i].Type != tableType) continue;
                RawSymbolTable table = ReadSymbolTable(i);
                for (int n = 0; n < table.Count; n++)
                {
                    ElfSymbol sym = table.SymbolAt(n);
                    if (!sym.IsDefinedFunction) continue;
                    ReadOnlySpan<byte> symName = table.NameAt(sym.NameOffset);
                    int symAt = symName.IndexOf((byte)'@');
                    ReadOnlySpan<byte> symBase = symAt >= 0 ? symName[..symAt] : symName;
                    if (!symBase.SequenceEqual(wanted)) continue;
                    bool symDefault = symAt < 0 ? !table.IsHiddenVersion(n) : symName[(symAt + 1)..].StartsWith("@"u8);
                    // A versioned query matches the stored "name@@VER" or, in .dynsym, the name plus its .gnu.version entry.
                    bool exact = at >= 0 && (symName.SequenceEqual(wantedFull) || (symAt < 0 && table.VersionedName(n, symName) == name));
                    int rank = exact ? 0 : symDefault ? 1 : 2;
                    if (rank < bestRank)
                    {
                        bestRank = rank;
                        best = new ElfFunction(Encoding.UTF8.GetString(symName), sym.Value, sym.Size, sym.Type == SymbolTypeIndirectFunction);
                        if (rank == 0) break;
                    }
                }
                if (bestRank == 0) break;
            }
            if (best is not null) break; // .symtab wins; .dynsym is only the fallback for stripped files
        }
        function = best ?? default;
        return best is not null;
    }

    /// <summary>Maps a link-time virtual address to its file offset through the PT_LOAD segments.</summary>
    public bool TryGetFileOffset(ulong virtualAddress, out ulong fileOffset) =>
        TryTranslate(_loadSegments, virtualAddress, toFileOffset: true, out fileOffset);

    /// <summary>Maps a file offset back to its link-time virtual address (the inverse of <see cref="TryGetFileOffset"/>).</summary>
    public bool TryGetVirtualAddress(ulong fileOffset, out ulong virtualAddress) =>
        TryTranslate(_loadSegments, fileOffset, toFileOffset: false, out virtualAddress);

    /// <summary>Address to file offset or back, within the file contents of one PT_LOAD segment.</summary>
    internal static bool TryTranslate(ReadOnlySpan<LoadSegment> segments, ulong value, bool toFileOffset, out ulong result)
    {
        foreach (LoadSegment s in segments)
        {
            ulong from = toFileOffset ? s.VirtualAddress : s.Offset;
            if (value >= from && value - from < s.FileSize)
            {
                result = (toFileOffset ? s.Offset : s.VirtualAddress) + (value - from);
                return true;
            }
        }
        result = 0;
        return false;
    }

    /// <summary>
    /// Reads up to <paramref name="count"/> bytes of the file image at a link-time virtual address; fewer when the
    /// loaded segment's file contents end first. Throws <see cref="ArgumentOutOfRangeException"/> when no PT_LOAD covers it.
    /// </summary>
    public byte[] ReadAtVirtualAddress(ulong virtualAddress, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        foreach (LoadSegment s in _loadSegments)
        {
            if (virtualAddress >= s.VirtualAddress && virtualAddress - s.VirtualAddress < s.FileSize)
            {
                ulong available = s.FileSize - (virtualAddress - s.VirtualAddress);
                int length = (int)Math.Min((ulong)count, available);
                return ReadBytes(s.Offset + (virtualAddress - s.VirtualAddress), length, "code bytes");
            }
        }
        throw new ArgumentOutOfRangeException(nameof(virtualAddress), virtualAddress,
            $"0x{virtualAddress:x} is not in a loaded segment of '{Path}'.");
    }

    public void Dispose()
    {
        if (_ownsHandle) _handle.Dispose();
    }

    internal ReadOnlySpan<LoadSegment> LoadSegments => _loadSegments;

    /// <summary>Indices of .symtab and .dynsym sections, .symtab first.</summary>
    internal IEnumerable<int> SymbolTableSections()
    {
        for (int i = 0; i < _sections.Length; i++)
            if (_sections[i].Type == SectionTypeSymbolTable) yield return i;
        for (int i = 0; i < _sections.Length; i++)
            if (_sections[i].Type == SectionTypeDynamicSymbols) yield return i;
    }

    /// <summary>End address (sh_addr + sh_size) of section <paramref name="index"/>, or <paramref name="fallback"/> when unknown.</summary>
    internal ulong SectionEnd(int index, ulong fallback)
    {
        if (index <= 0 || index >= _sections.Length || _sections[index].Size == 0) return fallback;
        SectionHeader s = _sections[index];
        return s.Address + s.Size;
    }

    /// <summary>The raw symbols and string table of one symbol-table section (plus versions for .dynsym).</summary>
    internal RawSymbolTable ReadSymbolTable(int sectionIndex)
    {
        // Kept while the image is open: TryFindFunction is called once per allocator name over the same tables.
        _symbolTables ??= new RawSymbolTable?[_sections.Length];
        return _symbolTables[sectionIndex] ??= ReadSymbolTableUncached(sectionIndex);
    }

    private RawSymbolTable ReadSymbolTableUncached(int sectionIndex)
    {
        SectionHeader section = _sections[sectionIndex];
        if (section.Type == SectionTypeNoBits || section.Size < SymbolSize)
            return new RawSymbolTable(Array.Empty<byte>(), Array.Empty<byte>(), null);
        if (section.EntrySize != 0 && section.EntrySize != SymbolSize)
            throw new InvalidDataException($"'{Path}' has a symbol table with entry size {section.EntrySize}.");
        byte[] symbols = ReadSection(section, _sectionNames[sectionIndex]);
        if (section.Link >= _sections.Length) throw new InvalidDataException($"'{Path}' has a symbol table whose string table index {section.Link} is out of range.");
        byte[] strings = ReadSection(_sections[section.Link], "symbol string table");
        byte[]? versions = null;
        string[]? versionNames = null;
        if (section.Type == SectionTypeDynamicSymbols)
        {
            for (int i = 0; i < _sections.Length; i++)
            {
                if (_sections[i].Type == SectionTypeVersionSymbols && _sections[i].Link == sectionIndex)
                    versions = ReadSection(_sections[i], ".gnu.version");
                else if (_sections[i].Type == SectionTypeVersionDefinitions && _sections[i].Link == section.Link)
                    versionNames = ReadVersionDefinitions(ReadSection(_sections[i], ".gnu.version_d"), strings);
            }
        }
        return new RawSymbolTable(symbols, strings, versions, versionNames);
    }

    /// <summary>
    /// The dynamic relocations (SHT_RELA sections linked to .dynsym: .rela.dyn, .rela.plt), each with its symbol's
    /// name when it has one: what the dynamic linker writes into each GOT slot.
    /// </summary>
    internal List<ElfRelocation> ReadDynamicRelocations()
    {
        const int EntrySize = 24; // Elf64_Rela: r_offset, r_info, r_addend
        var result = new List<ElfRelocation>();
        for (int i = 0; i < _sections.Length; i++)
        {
            SectionHeader section = _sections[i];
            if (section.Type != SectionTypeRelocationsWithAddends || section.Link >= _sections.Length
                || _sections[section.Link].Type != SectionTypeDynamicSymbols) continue;
            RawSymbolTable symbols = ReadSymbolTable((int)section.Link);
            byte[] entries = ReadSection(section, _sectionNames[i]);
            for (int at = 0; at + EntrySize <= entries.Length; at += EntrySize)
            {
                ReadOnlySpan<byte> e = entries.AsSpan(at, EntrySize);
                ulong info = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
                int symbolIndex = (int)(info >> 32);
                string? name = null;
                if (symbolIndex > 0 && symbolIndex < symbols.Count)
                {
                    ReadOnlySpan<byte> raw = symbols.NameAt(symbols.SymbolAt(symbolIndex).NameOffset);
                    if (!raw.IsEmpty) name = Encoding.UTF8.GetString(raw);
                }
                result.Add(new ElfRelocation(BinaryPrimitives.ReadUInt64LittleEndian(e), (uint)info, name,
                    BinaryPrimitives.ReadInt64LittleEndian(e[16..])));
            }
        }
        return result;
    }

    /// <summary>Version index to name, from the Verdef chain (vd_ndx, vd_aux -> vda_name, vd_next).</summary>
    private static string[] ReadVersionDefinitions(byte[] verdef, byte[] strings)
    {
        var names = new List<(int Index, string Name)>();
        int max = 0;
        long at = 0;
        for (int guard = 0; guard < 65536 && at + 20 <= verdef.Length; guard++)
        {
            ReadOnlySpan<byte> d = verdef.AsSpan((int)at);
            int index = BinaryPrimitives.ReadUInt16LittleEndian(d[4..]) & 0x7fff;
            uint aux = BinaryPrimitives.ReadUInt32LittleEndian(d[12..]);
            uint next = BinaryPrimitives.ReadUInt32LittleEndian(d[16..]);
            if (at + aux + 8 <= verdef.Length)
            {
                uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(verdef.AsSpan((int)(at + aux)));
                names.Add((index, ReadString(strings, nameOffset)));
                max = Math.Max(max, index);
            }
            if (next == 0) break;
            at += next;
        }
        var result = new string[max + 1];
        foreach ((int index, string name) in names) result[index] = name;
        return result;
    }

    private SectionHeader[] ReadSectionHeaders(ulong shoff, ushort shentsize, int shnum, ref int shstrndx)
    {
        if (shoff == 0) return Array.Empty<SectionHeader>();
        if (shentsize < SectionHeaderSize) throw new InvalidDataException($"'{Path}' has a bad section header size {shentsize}.");
        byte[] first = ReadBytes(shoff, SectionHeaderSize, "section headers");
        // More than 0xff00 sections: the real count and string-table index live in section 0.
        if (shnum == 0)
        {
            ulong extended = BinaryPrimitives.ReadUInt64LittleEndian(first.AsSpan(32));
            if (extended > (ulong)(_length / shentsize)) throw Truncated("section headers", shoff, int.MaxValue);
            shnum = (int)extended;
        }
        if (shstrndx == 0xffff) shstrndx = (int)BinaryPrimitives.ReadUInt32LittleEndian(first.AsSpan(40));
        if (shnum == 0) return Array.Empty<SectionHeader>();

        if ((long)shnum * shentsize > _length) throw Truncated("section headers", shoff, int.MaxValue);
        byte[] table = ReadBytes(shoff, shnum * shentsize, "section headers");
        var sections = new SectionHeader[shnum];
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> s = table.AsSpan(i * shentsize, SectionHeaderSize);
            sections[i] = new SectionHeader(
                BinaryPrimitives.ReadUInt32LittleEndian(s),
                BinaryPrimitives.ReadUInt32LittleEndian(s[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(s[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(s[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(s[24..]),
                BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
                BinaryPrimitives.ReadUInt32LittleEndian(s[40..]),
                BinaryPrimitives.ReadUInt64LittleEndian(s[56..]));
        }
        return sections;
    }

    private string? FindBuildId(List<(ulong Offset, ulong Size)> noteSegments)
    {
        // Sections first: in a separate debug file the segments' contents are gone but .note.gnu.build-id stays.
        for (int i = 0; i < _sections.Length; i++)
        {
            if (_sections[i].Type != SectionTypeNote) continue;
            string? id = BuildIdFromNotes(ReadSection(_sections[i], _sectionNames[i]));
            if (id is not null) return id;
        }
        foreach ((ulong offset, ulong size) in noteSegments)
        {
            if (size == 0 || offset + size > (ulong)_length) continue;
            if (size > int.MaxValue) continue;
            string? id = BuildIdFromNotes(ReadBytes(offset, (int)size, "note segment"));
            if (id is not null) return id;
        }
        return null;
    }

    private static string? BuildIdFromNotes(ReadOnlySpan<byte> notes)
    {
        while (notes.Length >= 12)
        {
            uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(notes);
            uint descSize = BinaryPrimitives.ReadUInt32LittleEndian(notes[4..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes[8..]);
            ulong nameEnd = 12 + (((ulong)nameSize + 3) & ~3UL);
            ulong descEnd = nameEnd + (((ulong)descSize + 3) & ~3UL);
            if (nameEnd + descSize > (ulong)notes.Length) return null;
            if (type == NoteTypeGnuBuildId && nameSize == 4 && notes.Slice(12, 4).SequenceEqual("GNU\0"u8) && descSize > 0)
                return Convert.ToHexString(notes.Slice((int)nameEnd, (int)descSize)).ToLowerInvariant();
            if (descEnd >= (ulong)notes.Length) return null;
            notes = notes[(int)descEnd..];
        }
        return null;
    }

    private int FindSection(string name) => Array.IndexOf(_sectionNames, name);

    /// <summary>
    /// The contents of the named section, inflated when SHF_COMPRESSED with zlib (as Debian's debug files are);
    /// null when the section is absent, empty or compressed some other way.
    /// </summary>
    internal byte[]? ReadSectionContents(string name)
    {
        int index = FindSection(name);
        if (index < 0 || _sections[index].Type == SectionTypeNoBits) return null;
        byte[] raw = ReadSection(_sections[index], name);
        if ((_sections[index].Flags & SectionFlagCompressed) == 0) return raw.Length == 0 ? null : raw;

        const int CompressionHeaderSize = 24; // Elf64_Chdr: ch_type, ch_reserved, ch_size, ch_addralign
        if (raw.Length < CompressionHeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(raw) != CompressionTypeZlib) return null;
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(8));
        // zlib inflates at most ~1032:1; a larger claim is corrupt, and would make us allocate it up front.
        const ulong MaxInflationRatio = 1032;
        ulong bound = Math.Min((ulong)TargetFileOpener.MaxElfFileBytes, (ulong)raw.Length * MaxInflationRatio);
        if (size == 0 || size > bound) throw new InvalidDataException($"'{Path}': compressed section {name} claims {size} bytes.");
        var result = new byte[size];
        using var input = new MemoryStream(raw, CompressionHeaderSize, raw.Length - CompressionHeaderSize);
        using var inflater = new System.IO.Compression.ZLibStream(input, System.IO.Compression.CompressionMode.Decompress);
        int done = 0;
        try
        {
            while (done < result.Length)
            {
                int n = inflater.Read(result, done, result.Length - done);
                if (n == 0) break;
                done += n;
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{Path}': compressed section {name} is corrupt: {ex.Message}", ex);
        }
        if (done != result.Length) throw new InvalidDataException($"'{Path}': compressed section {name} inflates to {done} of {size} bytes.");
        return result;
    }

    /// <summary>
    /// The named section's virtual address (sh_addr), or null when it is absent or has no contents in this file
    /// (NOBITS: a debug file keeps only the headers of the sections it stripped).
    /// </summary>
    internal ulong? SectionAddress(string name)
    {
        int index = FindSection(name);
        return index < 0 || _sections[index].Type == SectionTypeNoBits ? null : _sections[index].Address;
    }

    private byte[] ReadSection(SectionHeader section, string what)
    {
        if (section.Type == SectionTypeNoBits) return Array.Empty<byte>();
        if (section.Size > int.MaxValue) throw new InvalidDataException($"'{Path}': section {what} is too large ({section.Size} bytes).");
        return ReadBytes(section.Offset, (int)section.Size, what);
    }

    private byte[] ReadBytes(ulong offset, int count, string what)
    {
        if (count == 0) return Array.Empty<byte>();
        if (offset > (ulong)_length || (ulong)count > (ulong)_length - offset) throw Truncated(what, offset, count);
        byte[] buffer = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = RandomAccess.Read(_handle, buffer.AsSpan(done), (long)offset + done);
            if (n <= 0) throw Truncated(what, offset, count);
            done += n;
        }
        return buffer;
    }

    private InvalidDataException Truncated(string what, ulong offset, int count) =>
        new($"'{Path}' is truncated or corrupt: {what} at offset {offset} ({count} bytes) lies beyond the end of the {_length}-byte file.");

    private static string ReadString(byte[] table, uint offset)
    {
        if (offset >= table.Length) return string.Empty;
        int end = Array.IndexOf(table, (byte)0, (int)offset);
        if (end < 0) end = table.Length;
        return Encoding.UTF8.GetString(table, (int)offset, end - (int)offset);
    }

    internal readonly record struct LoadSegment(ulong VirtualAddress, ulong Offset, ulong FileSize, ulong MemorySize, uint Flags);

    private readonly record struct SectionHeader(uint NameOffset, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link, ulong EntrySize);
}
