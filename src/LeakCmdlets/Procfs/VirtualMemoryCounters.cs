using System;
using System.IO;

namespace LeakTools.Procfs;

/// <summary>The /proc/vmstat event counters vmstat turns into si/so/bi/bo.</summary>
public sealed class VirtualMemoryCounters
{
    private const string Source = "/proc/vmstat";

    /// <summary>KiB read from block devices since boot.</summary>
    public ulong PagesPagedIn { get; set; }
    /// <summary>KiB written to block devices since boot.</summary>
    public ulong PagesPagedOut { get; set; }
    /// <summary>Pages swapped in since boot (0 on kernels without swap support).</summary>
    public ulong PagesSwappedIn { get; set; }
    /// <summary>Pages swapped out since boot (0 on kernels without swap support).</summary>
    public ulong PagesSwappedOut { get; set; }

    public static VirtualMemoryCounters Parse(string text) => Parse(new LineReader(new StringReader(text), 4096));

    internal static VirtualMemoryCounters Parse(LineReader lines)
    {
        var counters = new VirtualMemoryCounters();
        bool sawAny = false;
        while (lines.TryReadLine(out ReadOnlySpan<char> line))
        {
            if (line.IsEmpty) continue;
            int space = line.IndexOf(' ');
            if (space <= 0) throw new ProcfsFormatException(Source, lines.LineNumber, "expected \"name value\"", line);
            ReadOnlySpan<char> key = line[..space];
            ReadOnlySpan<char> value = line[(space + 1)..];
            switch (key)
            {
                case "pgpgin": counters.PagesPagedIn = Number(value, lines, line); sawAny = true; break;
                case "pgpgout": counters.PagesPagedOut = Number(value, lines, line); sawAny = true; break;
                case "pswpin": counters.PagesSwappedIn = Number(value, lines, line); break;
                case "pswpout": counters.PagesSwappedOut = Number(value, lines, line); break;
            }
        }
        if (!sawAny) throw new ProcfsFormatException(Source, "pgpgin/pgpgout are missing; the file is truncated or not /proc/vmstat");
        return counters;
    }

    private static ulong Number(ReadOnlySpan<char> token, LineReader lines, ReadOnlySpan<char> line) =>
        ProcfsText.ParseUnsigned(token, Source, lines.LineNumber, line);
}
