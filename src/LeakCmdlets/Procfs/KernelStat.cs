using System;
using System.IO;

namespace LeakTools.Procfs;

/// <summary>/proc/stat: the system-wide counters vmstat turns into rates and percentages.</summary>
public sealed class KernelStat
{
    private const string Source = "/proc/stat";

    public CpuTimes Cpu { get; set; } = new();
    /// <summary>Interrupts serviced since boot (first number of the "intr" line).</summary>
    public ulong Interrupts { get; set; }
    public ulong ContextSwitches { get; set; }
    /// <summary>Boot time, seconds since the Unix epoch.</summary>
    public long BootTime { get; set; }
    public ulong ProcessesCreated { get; set; }
    /// <summary>Runnable tasks now (Linux 2.5.45).</summary>
    public int? ProcsRunning { get; set; }
    /// <summary>Tasks blocked on I/O now (Linux 2.5.45).</summary>
    public int? ProcsBlocked { get; set; }

    public static KernelStat Parse(string text) => Parse(new LineReader(new StringReader(text), 4096));

    internal static KernelStat Parse(LineReader lines)
    {
        var stat = new KernelStat();
        bool sawCpu = false, sawCtxt = false;
        while (lines.TryReadLine(out ReadOnlySpan<char> line))
        {
            ReadOnlySpan<char> rest = line;
            ReadOnlySpan<char> key = ProcfsText.NextToken(ref rest);
            switch (key)
            {
                case "cpu":
                    stat.Cpu = ParseCpu(rest, lines.LineNumber, line);
                    sawCpu = true;
                    break;
                case "intr":
                    stat.Interrupts = Number(ProcfsText.NextToken(ref rest), lines, line);
                    break;
                case "ctxt":
                    stat.ContextSwitches = Number(ProcfsText.NextToken(ref rest), lines, line);
                    sawCtxt = true;
                    break;
                case "btime":
                    stat.BootTime = (long)Number(ProcfsText.NextToken(ref rest), lines, line);
                    break;
                case "processes":
                    stat.ProcessesCreated = Number(ProcfsText.NextToken(ref rest), lines, line);
                    break;
                case "procs_running":
                    stat.ProcsRunning = (int)Number(ProcfsText.NextToken(ref rest), lines, line);
                    break;
                case "procs_blocked":
                    stat.ProcsBlocked = (int)Number(ProcfsText.NextToken(ref rest), lines, line);
                    break;
            }
        }
        if (!sawCpu || !sawCtxt)
            throw new ProcfsFormatException(Source, "the \"cpu\" or \"ctxt\" line is missing; the file is truncated or not /proc/stat");
        return stat;
    }

    private static ulong Number(ReadOnlySpan<char> token, LineReader lines, ReadOnlySpan<char> line) =>
        ProcfsText.ParseUnsigned(token, Source, lines.LineNumber, line);

    private static CpuTimes ParseCpu(ReadOnlySpan<char> rest, int lineNumber, ReadOnlySpan<char> line)
    {
        Span<ulong> values = stackalloc ulong[10];
        int count = 0;
        while (count < values.Length)
        {
            ReadOnlySpan<char> token = ProcfsText.NextToken(ref rest);
            if (token.IsEmpty) break;
            values[count++] = ProcfsText.ParseUnsigned(token, Source, lineNumber, line);
        }
        if (count < 4) throw new ProcfsFormatException(Source, lineNumber, "the cpu line needs at least user, nice, system and idle", line);
        return new CpuTimes
        {
            User = values[0],
            Nice = values[1],
            System = values[2],
            Idle = values[3],
            IoWait = count > 4 ? values[4] : null,
            Irq = count > 5 ? values[5] : null,
            SoftIrq = count > 6 ? values[6] : null,
            Steal = count > 7 ? values[7] : null,
            Guest = count > 8 ? values[8] : null,
            GuestNice = count > 9 ? values[9] : null,
        };
    }
}
