using System;
using System.Collections.Generic;
using System.Text;

namespace LeakTools.Symbols;

/// <summary>
/// Address-sorted function symbols of one module (binary plus its debug file), for nearest-symbol lookup.
/// Names stay as offsets into the raw string tables and are decoded and demangled only when a lookup hits them.
/// </summary>
internal sealed class FunctionSymbolTable
{
    private const int MaxNestedLookBack = 8;
    private const ulong LastSymbolDefaultSpan = 4096;

    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly ushort[] _tables;
    private readonly uint[] _nameOffsets;
    private readonly byte[][] _stringTables;
    private readonly string?[] _names;

    private FunctionSymbolTable(ulong[] starts, ulong[] ends, ushort[] tables, uint[] nameOffsets, byte[][] stringTables)
    {
        _starts = starts;
        _ends = ends;
        _tables = tables;
        _nameOffsets = nameOffsets;
        _stringTables = stringTables;
        _names = new string?[starts.Length];
    }

    public static FunctionSymbolTable Empty { get; } = new(Array.Empty<ulong>(), Array.Empty<ulong>(), Array.Empty<ushort>(), Array.Empty<uint>(), Array.Empty<byte[]>());

    public int Count => _starts.Length;

    /// <summary>Collects FUNC and IFUNC symbols of every symbol table in <paramref name="images"/>; earlier images win ties.</summary>
    /// <remarks>Runs once per module: optimized at once rather than as tier-0 code over 100k+ symbols.</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static FunctionSymbolTable Build(IEnumerable<ElfImage> images)
    {
        // Read every table first so that the candidate list is allocated once at its final size (120k+ symbols).
        var rawTables = new List<(ElfImage Image, RawSymbolTable Raw)>();
        int total = 0;
        foreach (ElfImage image in images)
        {
            foreach (int section in image.SymbolTableSections())
            {
                RawSymbolTable raw = image.ReadSymbolTable(section);
                if (raw.Count == 0) continue;
                rawTables.Add((image, raw));
                total += raw.Count;
            }
        }
        var candidates = new List<Candidate>(total);
        var stringTables = new List<byte[]>(rawTables.Count);
        foreach ((ElfImage image, RawSymbolTable raw) in rawTables)
        {
            ushort table = checked((ushort)stringTables.Count);
            stringTables.Add(raw.Strings);
            for (int i = 0; i < raw.Count; i++)
            {
                ElfSymbol sym = raw.SymbolAt(i);
                // Not an absolute or common symbol (SHN_LORESERVE and up), and with a name.
                if (!sym.IsDefinedFunction || sym.SectionIndex >= 0xff00) continue;
                if (sym.NameOffset == 0 || sym.NameOffset >= raw.Strings.Length) continue;
                // Prefer a sized global name over a local alias or an unsized label at the same address.
                int rank = (sym.Size == 0 ? 2 : sym.IsLocal ? 1 : 0) * 8 + LeadingUnderscores(raw.NameAt(sym.NameOffset));
                // An unsized label (like _init) may reach no further than its section: never over .plt into .text.
                ulong end = sym.Size > 0 ? sym.Value + sym.Size : image.SectionEnd(sym.SectionIndex, sym.Value + LastSymbolDefaultSpan);
                candidates.Add(new Candidate(sym.Value, end, sym.Size > 0, table, sym.NameOffset, rank, candidates.Count));
            }
        }
        if (candidates.Count == 0) return Empty;

        Span<Candidate> sorted = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates);
        sorted.Sort(default(CandidateOrder));

        var starts = new ulong[sorted.Length];
        var ends = new ulong[sorted.Length];
        var sized = new bool[sorted.Length];
        var tables = new ushort[sorted.Length];
        var names = new uint[sorted.Length];
        int count = 0;
        foreach (ref readonly Candidate c in sorted)
        {
            if (count > 0 && starts[count - 1] == c.Start)
            {
                // An alias at the same address: keep the preferred name, but the largest known extent.
                if (c.Sized && (!sized[count - 1] || c.End > ends[count - 1])) (ends[count - 1], sized[count - 1]) = (c.End, true);
                continue;
            }
            (starts[count], ends[count], sized[count], tables[count], names[count]) = (c.Start, c.End, c.Sized, c.Table, c.NameOffset);
            count++;
        }
        // An unsized symbol reaches to the next symbol at most.
        for (int i = 0; i + 1 < count; i++)
            if (!sized[i] && ends[i] > starts[i + 1]) ends[i] = starts[i + 1];
        Array.Resize(ref starts, count);
        Array.Resize(ref ends, count);
        Array.Resize(ref tables, count);
        Array.Resize(ref names, count);
        return new FunctionSymbolTable(starts, ends, tables, names, stringTables.ToArray());
    }

    /// <summary>Aliases at one address ("malloc", "__libc_malloc"): the public spelling has fewer leading underscores.</summary>
    internal static int LeadingUnderscores(ReadOnlySpan<byte> name)
    {
        int n = 0;
        while (n < name.Length && n < 7 && name[n] == (byte)'_') n++;
        return n;
    }

    /// <summary>Finds the function whose [start, end) holds <paramref name="address"/> (a link-time virtual address).</summary>
    public bool TryFind(ulong address, out string name, out ulong offset)
    {
        int index = Array.BinarySearch(_starts, address);
        if (index < 0) index = ~index - 1;
        for (int i = index; i >= 0 && i > index - MaxNestedLookBack; i--)
        {
            if (address < _ends[i])
            {
                name = NameAt(i);
                offset = address - _starts[i];
                return true;
            }
        }
        name = string.Empty;
        offset = 0;
        return false;
    }

    /// <summary>Counts the (demangled) names that match; for tests and diagnostics.</summary>
    public int CountWhere(Func<string, bool> predicate)
    {
        int n = 0;
        for (int i = 0; i < _starts.Length; i++) if (predicate(NameAt(i))) n++;
        return n;
    }

    private string NameAt(int index)
    {
        string? cached = _names[index];
        if (cached is not null) return cached;
        byte[] strings = _stringTables[_tables[index]];
        ReadOnlySpan<byte> rest = strings.AsSpan((int)_nameOffsets[index]);
        int end = rest.IndexOf((byte)0);
        string raw = Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
        string name = SymbolDemangler.Demangle(raw);
        _names[index] = name; // benign race: every thread computes the same string
        return name;
    }

    private readonly record struct Candidate(ulong Start, ulong End, bool Sized, ushort Table, uint NameOffset, int Rank, int Order);

    /// <summary>By address, then preference rank, then input order (a struct comparer: 120k+ items are sorted).</summary>
    private readonly struct CandidateOrder : IComparer<Candidate>
    {
        public int Compare(Candidate a, Candidate b)
        {
            int c = a.Start.CompareTo(b.Start);
            if (c != 0) return c;
            c = a.Rank.CompareTo(b.Rank);
            return c != 0 ? c : a.Order.CompareTo(b.Order);
        }
    }
}
