using System;
using System.Collections.Generic;
using System.IO;
using LeakTools.Symbols;

namespace LeakTools.Unwinding;

/// <summary>
/// The unwind table of one module: its rows sorted by address, packed for the BPF walk, and a page index that
/// bounds each lookup to the rows of one 4 KiB page of code (a binary search of at most about 12 steps).
/// Addresses are the module's own virtual addresses, so one table serves every process that maps the module,
/// at any load address. Immutable once built; shared by build-id (<see cref="UnwindTableCache"/>).
/// </summary>
public sealed class UnwindTable
{
    /// <summary>Bytes of code one page-index entry covers.</summary>
    public const int PageShift = 12;

    private UnwindTable(ulong[] rows, uint pageBase, ulong[] pages, string source)
    {
        Rows = rows;
        PageBase = pageBase;
        Pages = pages;
        Source = source;
    }

    /// <summary>The rows, packed (<see cref="UnwindRow.Pack"/>), sorted by address; the last one ends the covered code (Unknown).</summary>
    public ulong[] Rows { get; }

    /// <summary>Address of the first page of the index (the first row's address rounded down to a page).</summary>
    public uint PageBase { get; }

    /// <summary>Per page from <see cref="PageBase"/>: the index of the row in force at the page's start, and (high 32 bits) how many rows the page's lookups search.</summary>
    public ulong[] Pages { get; }

    /// <summary>Where the rows came from: ".eh_frame" (through .eh_frame_hdr or a scan) or ".debug_frame".</summary>
    public string Source { get; }

    /// <summary>Bytes the packed rows and the page index take.</summary>
    public long SizeBytes => (Rows.LongLength + Pages.LongLength) * sizeof(ulong);

    /// <summary>The row in force at <paramref name="address"/>, as the BPF walk finds it; Unknown outside the table.</summary>
    public UnwindRow Lookup(ulong address)
    {
        if (address < PageBase) return new UnwindRow((uint)Math.Min(address, uint.MaxValue), UnwindRowKind.Unknown, 0, 0);
        ulong page = (address - PageBase) >> PageShift;
        if (page >= (ulong)Pages.Length) return new UnwindRow(uint.MaxValue, UnwindRowKind.Unknown, 0, 0);
        int low = (int)(uint)Pages[page];
        int count = (int)(Pages[page] >> 32);
        while (count > 1)
        {
            int half = count / 2;
            if ((uint)Rows[low + half] <= address) low += half;
            count -= half;
        }
        var row = UnwindRow.Unpack(Rows[low]);
        return row.Address <= address ? row : new UnwindRow(row.Address, UnwindRowKind.Unknown, 0, 0);
    }

    /// <summary>
    /// Builds the table of <paramref name="binary"/> from its .eh_frame (found through .eh_frame_hdr's sorted table
    /// when there is one), or else from the .debug_frame of the binary or of <paramref name="debugFile"/>.
    /// Null when none of them is there. Throws <see cref="InvalidDataException"/> for malformed call frame information.
    /// </summary>
    public static UnwindTable? Build(ElfImage binary, ElfImage? debugFile = null)
    {
        ulong? ehFrameAddress = binary.SectionAddress(".eh_frame");
        byte[]? ehFrame = ehFrameAddress is null ? null : binary.ReadSectionContents(".eh_frame");
        if (ehFrame is not null)
        {
            var parser = new CfiParser(ehFrame, ehFrameAddress!.Value, debugFrame: false);
            List<FdeRows>? fdes = FdesFromHeader(binary, parser, ehFrameAddress.Value, ehFrame.Length);
            return FromFdes(fdes ?? parser.ParseAll(), fdes is null ? ".eh_frame" : ".eh_frame_hdr");
        }
        foreach (ElfImage? image in new[] { binary, debugFile })
        {
            byte[]? debugFrame = image?.ReadSectionContents(".debug_frame");
            if (debugFrame is not null) return FromFdes(new CfiParser(debugFrame, 0, debugFrame: true).ParseAll(), ".debug_frame");
        }
        return null;
    }

    /// <summary>The FDEs that .eh_frame_hdr's binary-search table lists, or null when it has none we can read.</summary>
    private static List<FdeRows>? FdesFromHeader(ElfImage binary, CfiParser parser, ulong ehFrameAddress, int ehFrameLength)
    {
        ulong? headerAddress = binary.SectionAddress(".eh_frame_hdr");
        byte[]? header = headerAddress is null ? null : binary.ReadSectionContents(".eh_frame_hdr");
        if (header is null || header.Length < 4 || header[0] != 1) return null;
        byte tableEncoding = header[3];
        if (header[2] == CfiCursor.PointerOmit || tableEncoding == CfiCursor.PointerOmit) return null;
        var cursor = new CfiCursor(header, 4);
        cursor.Pointer(header[1], headerAddress!.Value, headerAddress.Value);   // eh_frame_ptr
        ulong count = cursor.Pointer(header[2], headerAddress.Value, headerAddress.Value);
        if (count > (ulong)ehFrameLength / 8) throw new InvalidDataException($".eh_frame_hdr lists {count} FDEs, more than a {ehFrameLength}-byte .eh_frame can hold.");
        var fdes = new List<FdeRows>((int)count);
        for (ulong i = 0; i < count; i++)
        {
            cursor.Pointer(tableEncoding, headerAddress.Value, headerAddress.Value);   // initial location: the FDE says it again
            ulong fdeAddress = cursor.Pointer(tableEncoding, headerAddress.Value, headerAddress.Value);
            if (fdeAddress < ehFrameAddress || fdeAddress - ehFrameAddress >= (ulong)ehFrameLength)
                throw new InvalidDataException($".eh_frame_hdr points at 0x{fdeAddress:x}, outside .eh_frame.");
            fdes.Add(parser.ParseFde((int)(fdeAddress - ehFrameAddress)));
        }
        return fdes;
    }

    /// <summary>
    /// One sorted row list from FDEs in any order: adjacent rows with the same rule merged, an Unknown row wherever
    /// no FDE covers the code (gaps, and after the last FDE), an FDE that overlaps the one before clipped to start
    /// where that one ends.
    /// </summary>
    internal static UnwindTable? FromFdes(List<FdeRows> fdes, string source)
    {
        fdes.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        var rows = new List<ulong>(fdes.Count * 4);
        UnwindRow last = default;
        ulong covered = 0;
        void Add(UnwindRow row)
        {
            if (rows.Count > 0 && last.SameRule(row)) return;
            if (rows.Count > 0 && last.Address == row.Address) rows[^1] = row.Pack();
            else rows.Add(row.Pack());
            last = row;
        }
        foreach (FdeRows fde in fdes)
        {
            if (fde.End <= fde.Start || fde.End <= covered || fde.Rows.Count == 0) continue;
            if (rows.Count > 0 && fde.Start > covered) Add(new UnwindRow((uint)covered, UnwindRowKind.Unknown, 0, 0));
            ulong start = Math.Max(fde.Start, covered);
            for (int i = 0; i < fde.Rows.Count; i++)
            {
                UnwindRow row = fde.Rows[i];
                if (row.Address >= fde.End) break;
                ulong next = i + 1 < fde.Rows.Count ? fde.Rows[i + 1].Address : fde.End;
                if (next <= start) continue;   // clipped away by the FDE before
                Add(row.Address < start ? row with { Address = (uint)start } : row);
            }
            covered = fde.End;
        }
        if (rows.Count == 0) return null;
        if (covered > uint.MaxValue) throw new InvalidDataException($"Code up to 0x{covered:x} does not fit the 32-bit addresses of an unwind table.");
        Add(new UnwindRow((uint)covered, UnwindRowKind.Unknown, 0, 0));
        ulong[] packed = rows.ToArray();
        uint pageBase = (uint)packed[0] & ~((1u << PageShift) - 1);
        return new UnwindTable(packed, pageBase, BuildPages(packed, pageBase), source);
    }

    private static ulong[] BuildPages(ulong[] rows, uint pageBase)
    {
        uint lastAddress = (uint)rows[^1];
        var pages = new ulong[((lastAddress - pageBase) >> PageShift) + 1];
        int first = 0;
        for (int page = 0; page < pages.Length; page++)
        {
            ulong pageStart = pageBase + ((ulong)page << PageShift);
            ulong pageEnd = pageStart + (1u << PageShift);
            while (first + 1 < rows.Length && (uint)rows[first + 1] <= pageStart) first++;
            int end = first;
            while (end + 1 < rows.Length && (uint)rows[end + 1] < pageEnd) end++;
            pages[page] = (uint)first | (ulong)(uint)(end - first + 1) << 32;
        }
        return pages;
    }
}
