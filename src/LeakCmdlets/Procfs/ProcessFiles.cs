using System;
using System.IO;
using System.Text;
using LeakTools.Model;

namespace LeakTools.Procfs;

/// <summary>
/// Reads the files of /proc/PID. Every Try reader returns null when the process is gone (before or
/// during the read), throws <see cref="UnauthorizedAccessException"/> when the caller may not read it,
/// and <see cref="ProcfsFormatException"/> when the content is malformed.
/// </summary>
public static class ProcessFiles
{
    public static readonly int PageSize = Environment.SystemPageSize;

    public static string? TryReadText(int pid, string entry)
    {
        try { return File.ReadAllText(ProcessDirectory.PathOf(pid, entry)); }
        catch (Exception e) when (IsGone(e, pid)) { return null; }
    }

    /// <summary>A reader over a large /proc/PID file (smaps, maps), or null when the process is gone.</summary>
    public static TextReader? TryOpenText(int pid, string entry)
    {
        try
        {
            // Unbuffered stream: the StreamReader's 64 KiB buffer is the only copy.
            var stream = new FileStream(ProcessDirectory.PathOf(pid, entry), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            return new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024);
        }
        catch (Exception e) when (IsGone(e, pid)) { return null; }
    }

    /// <summary>
    /// True when <paramref name="e"/> means the process went away: the file is missing, or a read failed
    /// (ESRCH) and the process directory is gone too.
    /// </summary>
    public static bool IsGone(Exception e, int pid) =>
        e is FileNotFoundException or DirectoryNotFoundException
        || (e is IOException && !ProcessDirectory.Exists(pid));

    public static ProcessStat? TryReadStat(int pid) =>
        TryReadText(pid, "stat") is { Length: > 0 } text ? ProcessStat.Parse(text, PageSize) : null;

    /// <summary>
    /// The state letter of /proc/PID/stat ('R', 'S', 'T', 'Z', …), '\0' when the process is gone. Cheaper than
    /// <see cref="TryReadStat"/> for callers that poll it; the name is skipped by its last ')', like the full parser.
    /// </summary>
    public static char TryReadState(int pid)
    {
        string? stat = TryReadText(pid, "stat");
        if (stat is null) return '\0';
        int close = stat.LastIndexOf(')');
        return close > 0 && close + 2 < stat.Length ? stat[close + 2] : '\0';
    }

    public static ProcessStatus? TryReadStatus(int pid) =>
        TryReadText(pid, "status") is { Length: > 0 } text ? ProcessStatus.Parse(text) : null;

    public static ProcessStatm? TryReadStatm(int pid) =>
        TryReadText(pid, "statm") is { Length: > 0 } text ? ProcessStatm.Parse(text, PageSize) : null;

    /// <summary>The arguments joined by blanks ("" for kernel threads and zombies), or null when gone.</summary>
    public static string? TryReadCommandLine(int pid) =>
        TryReadText(pid, "cmdline") is { } text ? FormatCommandLine(text) : null;

    public static string FormatCommandLine(string nulSeparated) =>
        nulSeparated.TrimEnd('\0').Replace('\0', ' ');

    /// <summary>
    /// The totals of smaps_rollup (Linux 4.14) as one pseudo-mapping; on older kernels, the sum over smaps.
    /// Null when the process is gone or has no memory (kernel thread, zombie).
    /// </summary>
    public static MemoryMapping? TryReadSmapsRollup(int pid)
    {
        string path = ProcessDirectory.PathOf(pid, "smaps_rollup");
        if (File.Exists(path))
        {
            string? text;
            try { text = TryReadText(pid, "smaps_rollup"); }
            catch (IOException) when (ProcessDirectory.Exists(pid)) { return null; } // ESRCH: a zombie, no memory left

            if (string.IsNullOrEmpty(text)) return null;
            var reader = new SmapsReader(new StringReader(text), path) { ProcessId = pid };
            return reader.TryReadNext(out MemoryMapping? rollup) ? rollup : null;
        }
        using TextReader? smaps = TryOpenText(pid, "smaps");
        if (smaps is null) return null;
        var all = new SmapsReader(smaps, ProcessDirectory.PathOf(pid, "smaps")) { ProcessId = pid };
        MemoryMapping? sum = null;
        while (all.TryReadNext(out MemoryMapping? m))
        {
            sum ??= new MemoryMapping { ProcessId = pid, Path = "[rollup]", Rss = 0, Pss = 0, PrivateClean = 0, PrivateDirty = 0, Swap = 0 };
            sum.Rss += m.Rss ?? 0;
            sum.Pss += m.Pss ?? 0;
            sum.PrivateClean += m.PrivateClean ?? 0;
            sum.PrivateDirty += m.PrivateDirty ?? 0;
            sum.Swap += m.Swap ?? 0;
        }
        return sum;
    }
}
