using System;
using System.IO;

namespace LeakTools.Procfs;

/// <summary>
/// /proc/meminfo, sizes in bytes. Fields that not every supported kernel prints are nullable;
/// the kernel version that added each is noted.
/// </summary>
public sealed class MemInfo
{
    private const string Source = "/proc/meminfo";

    public long MemTotal { get; set; }
    public long MemFree { get; set; }
    /// <summary>Estimate of memory available without swapping (Linux 3.14).</summary>
    public long? MemAvailable { get; set; }
    public long Buffers { get; set; }
    public long Cached { get; set; }
    public long SwapCached { get; set; }
    public long Active { get; set; }
    public long Inactive { get; set; }
    public long SwapTotal { get; set; }
    public long SwapFree { get; set; }
    public long Dirty { get; set; }
    public long Writeback { get; set; }
    public long AnonPages { get; set; }
    public long Mapped { get; set; }
    /// <summary>Shared memory and tmpfs (Linux 2.6.32).</summary>
    public long? Shmem { get; set; }
    public long Slab { get; set; }
    /// <summary>Reclaimable slab (Linux 2.6.19); vmstat counts it as cache.</summary>
    public long? SReclaimable { get; set; }
    public long? SUnreclaim { get; set; }
    public long? KernelStack { get; set; }
    public long? PageTables { get; set; }
    public long? CommittedAs { get; set; }

    public static MemInfo Parse(string text) => Parse(new LineReader(new StringReader(text), 4096));

    internal static MemInfo Parse(LineReader lines)
    {
        var info = new MemInfo();
        bool sawTotal = false, sawFree = false;
        while (lines.TryReadLine(out ReadOnlySpan<char> line))
        {
            if (line.IsEmpty) continue;
            if (!ProcfsText.TrySplitField(line, out var key, out var value))
                throw new ProcfsFormatException(Source, lines.LineNumber, "expected \"Name: value kB\"", line);
            // Counts such as HugePages_Total carry no unit; every field we keep is a size.
            switch (key)
            {
                case "MemTotal": info.MemTotal = Kb(value, lines, line); sawTotal = true; break;
                case "MemFree": info.MemFree = Kb(value, lines, line); sawFree = true; break;
                case "MemAvailable": info.MemAvailable = Kb(value, lines, line); break;
                case "Buffers": info.Buffers = Kb(value, lines, line); break;
                case "Cached": info.Cached = Kb(value, lines, line); break;
                case "SwapCached": info.SwapCached = Kb(value, lines, line); break;
                case "Active": info.Active = Kb(value, lines, line); break;
                case "Inactive": info.Inactive = Kb(value, lines, line); break;
                case "SwapTotal": info.SwapTotal = Kb(value, lines, line); break;
                case "SwapFree": info.SwapFree = Kb(value, lines, line); break;
                case "Dirty": info.Dirty = Kb(value, lines, line); break;
                case "Writeback": info.Writeback = Kb(value, lines, line); break;
                case "AnonPages": info.AnonPages = Kb(value, lines, line); break;
                case "Mapped": info.Mapped = Kb(value, lines, line); break;
                case "Shmem": info.Shmem = Kb(value, lines, line); break;
                case "Slab": info.Slab = Kb(value, lines, line); break;
                case "SReclaimable": info.SReclaimable = Kb(value, lines, line); break;
                case "SUnreclaim": info.SUnreclaim = Kb(value, lines, line); break;
                case "KernelStack": info.KernelStack = Kb(value, lines, line); break;
                case "PageTables": info.PageTables = Kb(value, lines, line); break;
                case "Committed_AS": info.CommittedAs = Kb(value, lines, line); break;
            }
        }
        if (!sawTotal || !sawFree)
            throw new ProcfsFormatException(Source, "MemTotal or MemFree is missing; the file is truncated or not /proc/meminfo");
        return info;
    }

    private static long Kb(ReadOnlySpan<char> value, LineReader lines, ReadOnlySpan<char> line) =>
        ProcfsText.ParseKiloBytes(value, Source, lines.LineNumber, line);
}
