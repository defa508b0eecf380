using System;

namespace LeakTools.Procfs;

/// <summary>
/// One line of /proc/kallsyms: "ffffffff81000000 T _stext", or "ffffffffc0a01000 t nft_do_chain\t[nf_tables]" for a
/// symbol of a loadable module. Sliced without allocating; the spans live as long as the line.
/// </summary>
public readonly ref struct KallsymsLine
{
    /// <summary>Zero for every line when the kernel hides addresses from this session (kptr_restrict, no CAP_SYSLOG).</summary>
    public ulong Address { get; init; }
    /// <summary>nm's letter: 't'/'T' text, 'w'/'W' weak, 'd'/'D' data, …; lowercase is local.</summary>
    public char Type { get; init; }
    public ReadOnlySpan<char> Name { get; init; }
    /// <summary>"[nf_tables]" for a module's symbol; empty for the kernel image's own.</summary>
    public ReadOnlySpan<char> Module { get; init; }

    /// <summary>Code: the only symbols a stack's addresses can fall in.</summary>
    public bool IsText => Type is 't' or 'T' or 'w' or 'W';

    /// <summary>Parses <paramref name="line"/>; false when it is not "address type name[\tmodule]".</summary>
    public static bool TryParse(ReadOnlySpan<char> line, out KallsymsLine parsed)
    {
        parsed = default;
        int space = line.IndexOf(' ');
        if (space <= 0 || space + 3 > line.Length) return false;
        if (!ProcfsText.TryParseHex(line[..space], out ulong address)) return false;
        ReadOnlySpan<char> rest = line[(space + 3)..];
        ReadOnlySpan<char> module = default;
        int tab = rest.IndexOf('\t');
        if (tab >= 0)
        {
            module = rest[(tab + 1)..].Trim();
            rest = rest[..tab];
        }
        ReadOnlySpan<char> name = rest.Trim();
        if (name.IsEmpty) return false;
        parsed = new KallsymsLine { Address = address, Type = line[space + 1], Name = name, Module = module };
        return true;
    }
}
