using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace LeakTools.Symbols;

/// <summary>
/// Address to source file and line from DWARF .debug_line (versions 2 to 5, 32- and 64-bit DWARF): runs each
/// unit's line-number program and keeps its rows per sequence, as emitted (a sequence's addresses only grow),
/// with the sequences sorted by start address: no sort over the rows, which run into the millions for libc.
/// A malformed unit ends the parse; the sequences read before it stay usable.
/// </summary>
internal sealed class DwarfLineTable
{
    private const byte FormBlock = 0x09, FormData1 = 0x0b, FormData2 = 0x05, FormData4 = 0x06, FormData8 = 0x07, FormData16 = 0x1e;
    private const byte FormString = 0x08, FormStrp = 0x0e, FormUdata = 0x0f, FormLineStrp = 0x1f;
    private const ulong ContentPath = 1, ContentDirectoryIndex = 2;

    private readonly ulong[] _addresses;
    private readonly int[] _files;
    private readonly int[] _lines;
    private readonly string[] _fileNames;
    private readonly Sequence[] _sequences;
    private readonly ulong[] _sequenceStarts;

    private DwarfLineTable(RowBuffer rows, List<Sequence> sequences, string[] fileNames)
    {
        _addresses = rows.Addresses.ToArray();
        _files = rows.Files.ToArray();
        _lines = rows.Lines.ToArray();
        _fileNames = fileNames;
        _sequences = sequences.ToArray();
        _sequenceStarts = new ulong[_sequences.Length];
        for (int i = 0; i < _sequences.Length; i++) _sequenceStarts[i] = _sequences[i].Start;
        Array.Sort(_sequenceStarts, _sequences);
    }

    public static DwarfLineTable Empty { get; } = new(new RowBuffer(), new List<Sequence>(), Array.Empty<string>());

    public int RowCount => _addresses.Length;

    /// <summary>Reads .debug_line of <paramref name="image"/>; <see cref="Empty"/> when it has none.</summary>
    public static DwarfLineTable Load(ElfImage image)
    {
        byte[]? lines = image.ReadSectionContents(".debug_line");
        if (lines is null) return Empty;
        return Parse(lines, image.ReadSectionContents(".debug_line_str"), image.ReadSectionContents(".debug_str"));
    }

    internal static DwarfLineTable Parse(byte[] debugLine, byte[]? lineStrings, byte[]? strings)
    {
        var rows = new RowBuffer();
        var sequences = new List<Sequence>();
        var context = new FileNames(lineStrings, strings);
        int offset = 0;
        try
        {
            while (offset < debugLine.Length)
            {
                int next = ParseUnit(debugLine, offset, context, rows, sequences);
                if (next <= offset) break;
                offset = next;
            }
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException or FormatException or OverflowException)
        {
            // Malformed from here on: keep the sequences already ended.
        }
        rows.Truncate(sequences.Count == 0 ? 0 : sequences[^1].FirstRow + sequences[^1].RowCount);
        return new DwarfLineTable(rows, sequences, context.Names.ToArray());
    }

    /// <summary>The source position of the last row at or before <paramref name="address"/> in the sequence that covers it.</summary>
    public bool TryFind(ulong address, out string file, out int line)
    {
        file = string.Empty;
        line = 0;
        int s = Array.BinarySearch(_sequenceStarts, address);
        if (s < 0) s = ~s - 1;
        else while (s + 1 < _sequenceStarts.Length && _sequenceStarts[s + 1] == address) s++;
        if (s < 0 || address >= _sequences[s].End) return false;

        Sequence sequence = _sequences[s];
        int index = Array.BinarySearch(_addresses, sequence.FirstRow, sequence.RowCount, address);
        if (index >= 0)
        {
            // Several rows at one address: the last one describes the instruction there.
            while (index + 1 < sequence.FirstRow + sequence.RowCount && _addresses[index + 1] == address) index++;
        }
        else
        {
            index = ~index - 1;
        }
        if (index < sequence.FirstRow || _lines[index] <= 0) return false;
        file = _fileNames[_files[index]];
        line = _lines[index];
        return true;
    }

    // Runs once per unit (thousands per library) and only once per process: without this, most of the parse
    // would run as unoptimized tier-0 code before tiered compilation catches up.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static int ParseUnit(byte[] data, int start, FileNames names, RowBuffer rows, List<Sequence> sequences)
    {
        var r = new Reader(data, start);
        ulong unitLength = r.U32();
        bool dwarf64 = false;
        if (unitLength == 0xffffffff)
        {
            unitLength = r.U64();
            dwarf64 = true;
        }
        long end = r.Position + (long)unitLength;
        if (unitLength == 0 || end > data.Length) return data.Length;
        int version = r.U16();
        if (version < 2 || version > 5) return (int)end;
        int addressSize = 8;
        if (version >= 5)
        {
            addressSize = r.U8();
            r.U8(); // segment selector size
        }
        ulong headerLength = dwarf64 ? r.U64() : r.U32();
        long programStart = r.Position + (long)headerLength;
        int minInstructionLength = r.U8();
        if (version >= 4) r.U8(); // maximum operations per instruction (VLIW only)
        r.U8(); // default_is_stmt: every row counts for a lookup
        int lineBase = (sbyte)r.U8();
        int lineRange = r.U8();
        int opcodeBase = r.U8();
        if (lineRange == 0 || opcodeBase == 0) return (int)end;
        var standardLengths = new int[opcodeBase];
        for (int i = 1; i < opcodeBase; i++) standardLengths[i] = r.U8();

        // Unit-local file numbers to indices into the shared file-name list.
        var files = new List<int>();
        var directories = new List<string>();
        if (version >= 5)
        {
            ReadEntryTable(ref r, dwarf64, names, out List<(string Path, int Directory)> dirEntries);
            foreach ((string path, _) in dirEntries) directories.Add(path);
            ReadEntryTable(ref r, dwarf64, names, out List<(string Path, int Directory)> fileEntries);
            foreach ((string path, int dir) in fileEntries)
                files.Add(names.Intern(dir >= 0 && dir < directories.Count ? directories[dir] : null, path));
        }
        else
        {
            directories.Add(string.Empty); // index 0: the compilation directory, which only .debug_info knows
            while (true)
            {
                string dir = r.CString();
                if (dir.Length == 0) break;
                directories.Add(dir);
            }
            files.Add(-1); // v2-v4 file numbers start at 1
            while (true)
            {
                string name = r.CString();
                if (name.Length == 0) break;
                int dir = (int)r.Uleb();
                r.Uleb();
                r.Uleb();
                files.Add(names.Intern(dir < directories.Count ? directories[dir] : null, name));
            }
        }

        r.Position = programStart;
        ulong address = 0;
        int file = 1, line = 1;
        int sequenceStart = rows.Count;
        while (r.Position < end)
        {
            int opcode = r.U8();
            if (opcode >= opcodeBase)
            {
                int adjusted = opcode - opcodeBase;
                address += (ulong)(adjusted / lineRange * minInstructionLength);
                line += lineBase + adjusted % lineRange;
                Emit(rows, address, files, file, line);
                continue;
            }
            switch (opcode)
            {
                case 0:
                {
                    ulong length = r.Uleb();
                    long next = r.Position + (long)length;
                    if (length == 0 || next > end) return (int)end;
                    int sub = r.U8();
                    switch (sub)
                    {
                        case 1: // end_sequence
                            if (rows.Count > sequenceStart)
                                sequences.Add(new Sequence(rows.Addresses[sequenceStart], address, sequenceStart, rows.Count - sequenceStart));
                            sequenceStart = rows.Count;
                            address = 0;
                            file = 1;
                            line = 1;
                            break;
                        case 2: // set_address
                            address = addressSize == 4 ? r.U32() : r.U64();
                            break;
                    }
                    r.Position = next;
                    break;
                }
                case 1: Emit(rows, address, files, file, line); break;                           // copy
                case 2: address += r.Uleb() * (ulong)minInstructionLength; break;              // advance_pc
                case 3: line += (int)r.Sleb(); break;                                          // advance_line
                case 4: file = (int)r.Uleb(); break;                                           // set_file
                case 8: address += (ulong)((255 - opcodeBase) / lineRange * minInstructionLength); break; // const_add_pc
                case 9: address += (ulong)r.U16(); break;                                            // fixed_advance_pc
                default:
                    for (int i = 0; i < standardLengths[opcode]; i++) r.Uleb(); // column, is_stmt, isa and unknown opcodes
                    break;
            }
        }
        rows.Truncate(sequenceStart); // rows of a sequence that never ended are dropped
        return (int)end;
    }

    private static void Emit(RowBuffer rows, ulong address, List<int> files, int file, int line)
    {
        int index = file >= 0 && file < files.Count ? files[file] : -1;
        if (index >= 0) rows.Add(address, index, line);
    }

    /// <summary>A DWARF 5 directory or file table: a format description, then the entries.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void ReadEntryTable(ref Reader r, bool dwarf64, FileNames names, out List<(string Path, int Directory)> entries)
    {
        int formatCount = r.U8();
        var formats = new (ulong Content, ulong Form)[formatCount];
        for (int i = 0; i < formatCount; i++) formats[i] = (r.Uleb(), r.Uleb());
        ulong count = r.Uleb();
        // Every form takes at least one byte, so the bytes left bound the count; a count without formats is
        // malformed (it would describe entries out of nothing, and allocate for each).
        if (count > (ulong)r.Remaining || (formatCount == 0 && count > 0)) throw new FormatException();
        entries = new List<(string, int)>((int)count);
        for (ulong n = 0; n < count; n++)
        {
            string path = string.Empty;
            int directory = 0;
            foreach ((ulong content, ulong form) in formats)
            {
                string? text = null;
                ulong number = 0;
                switch ((byte)form)
                {
                    case FormString: text = r.CString(); break;
                    case FormLineStrp: text = names.LineString(dwarf64 ? r.U64() : r.U32()); break;
                    case FormStrp: text = names.DebugString(dwarf64 ? r.U64() : r.U32()); break;
                    case FormUdata: number = r.Uleb(); break;
                    case FormData1: number = (ulong)r.U8(); break;
                    case FormData2: number = (ulong)r.U16(); break;
                    case FormData4: number = r.U32(); break;
                    case FormData8: number = r.U64(); break;
                    case FormData16: r.Position += 16; break;
                    case FormBlock: r.Position += (long)r.Uleb(); break;
                    default: throw new FormatException(); // strx and friends need .debug_str_offsets: give up on this table
                }
                if (content == ContentPath && text is not null) path = text;
                else if (content == ContentDirectoryIndex) directory = (int)number;
            }
            entries.Add((path, directory));
        }
    }

    /// <summary>
    /// File names shared by all units. Each unit repeats its directory and file tables (libc: ~1,700 units), so the
    /// strings are decoded once per string-table offset and joined once per (directory, name) pair.
    /// </summary>
    private sealed class FileNames
    {
        private readonly byte[]? _lineStrings;
        private readonly byte[]? _strings;
        private readonly Dictionary<ulong, string> _lineStringCache = new();
        private readonly Dictionary<ulong, string> _stringCache = new();
        private readonly Dictionary<(string? Directory, string Name), int> _index = new();

        public FileNames(byte[]? lineStrings, byte[]? strings)
        {
            _lineStrings = lineStrings;
            _strings = strings;
        }

        public List<string> Names { get; } = new();

        public string LineString(ulong offset) => Cached(_lineStringCache, _lineStrings, offset);

        public string DebugString(ulong offset) => Cached(_stringCache, _strings, offset);

        public int Intern(string? directory, string name)
        {
            if (!_index.TryGetValue((directory, name), out int i))
            {
                i = Names.Count;
                Names.Add(string.IsNullOrEmpty(directory) || name.StartsWith('/') ? name : directory.TrimEnd('/') + "/" + name);
                _index.Add((directory, name), i);
            }
            return i;
        }

        private static string Cached(Dictionary<ulong, string> cache, byte[]? table, ulong offset)
        {
            if (cache.TryGetValue(offset, out string? text)) return text;
            text = string.Empty;
            if (table is not null && offset < (ulong)table.Length)
            {
                ReadOnlySpan<byte> rest = table.AsSpan((int)offset);
                int end = rest.IndexOf((byte)0);
                text = Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
            }
            cache[offset] = text;
            return text;
        }
    }

    private readonly record struct Sequence(ulong Start, ulong End, int FirstRow, int RowCount);

    /// <summary>Rows as three parallel growable arrays (cheaper than a list of structs for millions of rows).</summary>
    private sealed class RowBuffer
    {
        public List<ulong> Addresses { get; } = new();
        public List<int> Files { get; } = new();
        public List<int> Lines { get; } = new();

        public int Count => Addresses.Count;

        public void Add(ulong address, int file, int line)
        {
            Addresses.Add(address);
            Files.Add(file);
            Lines.Add(line);
        }

        public void Truncate(int count)
        {
            if (count >= Count) return;
            Addresses.RemoveRange(count, Count - count);
            Files.RemoveRange(count, Count - count);
            Lines.RemoveRange(count, Count - count);
        }
    }

    /// <summary>Little-endian cursor over a byte array; reading past the end throws IndexOutOfRangeException.</summary>
    private struct Reader
    {
        private readonly byte[] _data;

        public Reader(byte[] data, long position)
        {
            _data = data;
            Position = position;
        }

        public long Position { get; set; }

        public long Remaining => Math.Max(0, _data.Length - Position);

        public int U8() => _data[Position++];

        public int U16()
        {
            int value = BinaryPrimitives.ReadUInt16LittleEndian(Slice(2));
            Position += 2;
            return value;
        }

        public uint U32()
        {
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(Slice(4));
            Position += 4;
            return value;
        }

        public ulong U64()
        {
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(Slice(8));
            Position += 8;
            return value;
        }

        public ulong Uleb()
        {
            ulong result = 0;
            int shift = 0;
            while (true)
            {
                byte b = _data[Position++];
                if (shift < 64) result |= (ulong)(b & 0x7f) << shift;
                shift += 7;
                if ((b & 0x80) == 0) return result;
            }
        }

        public long Sleb()
        {
            long result = 0;
            int shift = 0;
            byte b;
            do
            {
                b = _data[Position++];
                if (shift < 64) result |= (long)(b & 0x7f) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            if (shift < 64 && (b & 0x40) != 0) result |= -1L << shift;
            return result;
        }

        public string CString()
        {
            ReadOnlySpan<byte> rest = _data.AsSpan((int)Position);
            int end = rest.IndexOf((byte)0);
            if (end < 0) throw new FormatException();
            Position += end + 1;
            return Encoding.UTF8.GetString(rest[..end]);
        }

        private ReadOnlySpan<byte> Slice(int count) => _data.AsSpan(checked((int)Position), count);
    }
}
