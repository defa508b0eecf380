using System;
using System.IO;

namespace LeakTools.Procfs;

/// <summary>
/// /proc/PID/status: the memory fields top and ps use, sizes in bytes. The Vm* and Rss* lines are
/// absent for kernel threads and zombies, hence nullable.
/// </summary>
public sealed class ProcessStatus
{
    private const string Source = "/proc/PID/status";

    /// <summary>The command name as status prints it (newlines and backslashes escaped).</summary>
    public string Name { get; set; } = "";
    public int ProcessId { get; set; }
    public int ParentProcessId { get; set; }
    /// <summary>Real user id.</summary>
    public int? UserId { get; set; }
    public int Threads { get; set; }
    public long? VmPeak { get; set; }
    public long? VmSize { get; set; }
    public long? VmLck { get; set; }
    public long? VmHWM { get; set; }
    public long? VmRSS { get; set; }
    /// <summary>Linux 4.5.</summary>
    public long? RssAnon { get; set; }
    /// <summary>Linux 4.5.</summary>
    public long? RssFile { get; set; }
    /// <summary>Linux 4.5.</summary>
    public long? RssShmem { get; set; }
    public long? VmData { get; set; }
    public long? VmStk { get; set; }
    public long? VmExe { get; set; }
    public long? VmLib { get; set; }
    public long? VmPTE { get; set; }
    /// <summary>Linux 2.6.34.</summary>
    public long? VmSwap { get; set; }
    /// <summary>1 for kernel threads (Linux 6.0); null on older kernels, where the missing Vm* lines tell.</summary>
    public bool? IsKernelThread { get; set; }
    /// <summary>The permitted capability set (CapPrm), one bit per capability number.</summary>
    public ulong? PermittedCapabilities { get; set; }
    /// <summary>The effective capability set (CapEff), one bit per capability number.</summary>
    public ulong? EffectiveCapabilities { get; set; }
    /// <summary>The bounding set (CapBnd): no capability outside it can ever be gained.</summary>
    public ulong? BoundingCapabilities { get; set; }
    /// <summary>The ambient set (CapAmb, Linux 4.3): kept across execve of an unprivileged program.</summary>
    public ulong? AmbientCapabilities { get; set; }
    /// <summary>
    /// NSpid (Linux 4.1): the process's id in each pid namespace it is in, from the one we see it in to its own,
    /// innermost one. One entry outside containers.
    /// </summary>
    public int[]? NamespaceProcessIds { get; set; }
    /// <summary>The id the process has in its own pid namespace (the last NSpid entry); null before Linux 4.1.</summary>
    public int? InnermostProcessId => NamespaceProcessIds is [.., int innermost] ? innermost : null;

    public static ProcessStatus Parse(string text) => Parse(new LineReader(new StringReader(text), 4096));

    internal static ProcessStatus Parse(LineReader lines)
    {
        var status = new ProcessStatus();
        bool sawName = false, sawPid = false;
        while (lines.TryReadLine(out ReadOnlySpan<char> line))
        {
            if (line.IsEmpty) continue;
            if (!ProcfsText.TrySplitField(line, out var key, out var value))
                throw new ProcfsFormatException(Source, lines.LineNumber, "expected \"Name:\\tvalue\"", line);
            switch (key)
            {
                case "Name":
                    // Only a tab follows the colon; a name may start or end with blanks of its own.
                    status.Name = line[(key.Length + 1)..].TrimStart('\t').ToString();
                    sawName = true;
                    break;
                case "Pid": status.ProcessId = (int)Number(value, lines, line); sawPid = true; break;
                case "PPid": status.ParentProcessId = (int)Number(value, lines, line); break;
                case "Uid":
                    int tab = value.IndexOf('\t');
                    status.UserId = (int)Number(tab < 0 ? value : value[..tab], lines, line);
                    break;
                case "Threads": status.Threads = (int)Number(value, lines, line); break;
                case "Kthread": status.IsKernelThread = Number(value, lines, line) != 0; break;
                case "CapPrm": status.PermittedCapabilities = Hex(value, lines, line); break;
                case "CapEff": status.EffectiveCapabilities = Hex(value, lines, line); break;
                case "CapBnd": status.BoundingCapabilities = Hex(value, lines, line); break;
                case "CapAmb": status.AmbientCapabilities = Hex(value, lines, line); break;
                case "NSpid": status.NamespaceProcessIds = ProcessIds(value, lines, line); break;
                case "VmPeak": status.VmPeak = Kb(value, lines, line); break;
                case "VmSize": status.VmSize = Kb(value, lines, line); break;
                case "VmLck": status.VmLck = Kb(value, lines, line); break;
                case "VmHWM": status.VmHWM = Kb(value, lines, line); break;
                case "VmRSS": status.VmRSS = Kb(value, lines, line); break;
                case "RssAnon": status.RssAnon = Kb(value, lines, line); break;
                case "RssFile": status.RssFile = Kb(value, lines, line); break;
                case "RssShmem": status.RssShmem = Kb(value, lines, line); break;
                case "VmData": status.VmData = Kb(value, lines, line); break;
                case "VmStk": status.VmStk = Kb(value, lines, line); break;
                case "VmExe": status.VmExe = Kb(value, lines, line); break;
                case "VmLib": status.VmLib = Kb(value, lines, line); break;
                case "VmPTE": status.VmPTE = Kb(value, lines, line); break;
                case "VmSwap": status.VmSwap = Kb(value, lines, line); break;
            }
        }
        if (!sawName || !sawPid)
            throw new ProcfsFormatException(Source, "Name or Pid is missing; the file is truncated or not /proc/PID/status");
        return status;
    }

    private static long Kb(ReadOnlySpan<char> value, LineReader lines, ReadOnlySpan<char> line) =>
        ProcfsText.ParseKiloBytes(value, Source, lines.LineNumber, line);

    private static ulong Hex(ReadOnlySpan<char> value, LineReader lines, ReadOnlySpan<char> line) =>
        ProcfsText.TryParseHex(value, out ulong bits) ? bits
            : throw new ProcfsFormatException(Source, lines.LineNumber, "expected a hexadecimal capability set", line);

    // "14782", or "8141\t1" in a container: tab-separated, outermost first.
    private static int[] ProcessIds(ReadOnlySpan<char> value, LineReader lines, ReadOnlySpan<char> line)
    {
        var ids = new int[value.Count('\t') + 1];
        for (int i = 0; i < ids.Length; i++)
        {
            int tab = value.IndexOf('\t');
            ReadOnlySpan<char> id = tab < 0 ? value : value[..tab];
            value = tab < 0 ? ReadOnlySpan<char>.Empty : value[(tab + 1)..];
            ulong number = Number(id, lines, line);
            if (number > int.MaxValue)
                throw new ProcfsFormatException(Source, lines.LineNumber, "expected process ids below 2^31", line);
            ids[i] = (int)number;
        }
        return ids;
    }

    private static ulong Number(ReadOnlySpan<char> value, LineReader lines, ReadOnlySpan<char> line) =>
        ProcfsText.ParseUnsigned(value, Source, lines.LineNumber, line);
}
