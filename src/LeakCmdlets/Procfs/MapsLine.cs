using System;
using System.Diagnostics.CodeAnalysis;

namespace LeakTools.Procfs;

/// <summary>
/// One line of /proc/PID/maps (and a mapping line of smaps): "start-end perms offset dev inode   path".
/// The one parser of that line; it slices the line without allocating, so its spans live as long as the line.
/// </summary>
public readonly ref struct MapsLine
{
    /// <summary>What the kernel appends to the path of a file unlinked since it was mapped.</summary>
    public const string DeletedSuffix = " (deleted)";

    public ulong Start { get; init; }
    public ulong End { get; init; }
    /// <summary>"r-xp": read, write, execute, then p(rivate) or s(hared).</summary>
    public ReadOnlySpan<char> Permissions { get; init; }
    public ulong Offset { get; init; }
    /// <summary>"fe:00", major and minor in hex.</summary>
    public ReadOnlySpan<char> Device { get; init; }
    public ulong Inode { get; init; }
    /// <summary>The path or pseudo-path as printed, " (deleted)" included; empty for anonymous memory. It may hold blanks.</summary>
    public ReadOnlySpan<char> Path { get; init; }

    public bool IsDeleted => Path.EndsWith(DeletedSuffix, StringComparison.Ordinal);

    /// <summary><see cref="Path"/> without the " (deleted)" marker.</summary>
    public ReadOnlySpan<char> PathWithoutDeleted => IsDeleted ? Path[..^DeletedSuffix.Length] : Path;

    /// <summary>Parses <paramref name="line"/>; on failure <paramref name="problem"/> says what was expected.</summary>
    public static bool TryParse(ReadOnlySpan<char> line, out MapsLine parsed, [NotNullWhen(false)] out string? problem)
    {
        parsed = default;
        // The path may hold blanks, so only the first five fields are split off.
        ReadOnlySpan<char> rest = line;
        ReadOnlySpan<char> range = ProcfsText.NextToken(ref rest);
        ReadOnlySpan<char> perms = ProcfsText.NextToken(ref rest);
        ReadOnlySpan<char> offset = ProcfsText.NextToken(ref rest);
        ReadOnlySpan<char> device = ProcfsText.NextToken(ref rest);
        ReadOnlySpan<char> inode = ProcfsText.NextToken(ref rest);

        int dash = range.IndexOf('-');
        if (dash <= 0
            || !ProcfsText.TryParseHex(range[..dash], out ulong start)
            || !ProcfsText.TryParseHex(range[(dash + 1)..], out ulong end)
            || end < start)
            return Fail("expected an address range such as \"7f12a000-7f12c000\"", out problem);
        if (perms.Length != 4) return Fail("expected permissions such as \"r-xp\"", out problem);
        if (!ProcfsText.TryParseHex(offset, out ulong offsetValue)) return Fail("expected a hex file offset", out problem);
        if (device.IndexOf(':') <= 0) return Fail("expected a device such as \"fe:00\"", out problem);
        if (!ProcfsText.TryParseDecimal(inode, out ulong inodeValue)) return Fail("expected an inode number", out problem);

        problem = null;
        parsed = new MapsLine
        {
            Start = start,
            End = end,
            Permissions = perms,
            Offset = offsetValue,
            Device = device,
            Inode = inodeValue,
            Path = rest.TrimStart(' '),
        };
        return true;
    }

    private static bool Fail(string what, [NotNullWhen(false)] out string? problem)
    {
        problem = what;
        return false;
    }
}
