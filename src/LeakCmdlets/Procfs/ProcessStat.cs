using System;

namespace LeakTools.Procfs;

/// <summary>/proc/PID/stat: the fields LeakTools uses, sizes in bytes.</summary>
public sealed class ProcessStat
{
    private const string Source = "/proc/PID/stat";
    private const ulong KernelThreadFlag = 0x00200000; // PF_KTHREAD

    public int ProcessId { get; set; }
    /// <summary>The command name (up to 15 bytes), exactly as the kernel holds it; may contain spaces and parentheses.</summary>
    public string Comm { get; set; } = "";
    public char State { get; set; }
    public int ParentProcessId { get; set; }
    public ulong Flags { get; set; }
    public ulong MinorFaults { get; set; }
    public ulong MajorFaults { get; set; }
    /// <summary>User-mode CPU time in USER_HZ ticks.</summary>
    public ulong UserTime { get; set; }
    /// <summary>Kernel-mode CPU time in USER_HZ ticks.</summary>
    public ulong SystemTime { get; set; }
    public int Threads { get; set; }
    /// <summary>Start time in USER_HZ ticks after boot.</summary>
    public ulong StartTime { get; set; }
    public long VirtualSize { get; set; }
    public long Rss { get; set; }

    public bool IsKernelThread => (Flags & KernelThreadFlag) != 0;

    /// <summary>Exited, waiting for its parent to reap it ('Z'), or being reaped ('X'): no memory left.</summary>
    public bool IsZombie => State is 'Z' or 'X';

    /// <summary>
    /// Why this process has no user memory, as a sentence for an error message: a kernel thread never had any,
    /// a zombie has given it back. Null for an ordinary process.
    /// </summary>
    public string? DescribeWithoutMemory() =>
        IsKernelThread ? $"Process {ProcessId} ({Comm}) is a kernel thread: it has no user-space memory."
        : IsZombie ? $"Process {ProcessId} ({Comm}) has exited: it is a zombie, without memory, waiting for its parent (process {ParentProcessId}) to reap it."
        : null;

    /// <param name="text">The whole file.</param>
    /// <param name="pageSize">Bytes per page, to turn the rss page count into bytes.</param>
    public static ProcessStat Parse(ReadOnlySpan<char> text, int pageSize)
    {
        text = text.TrimEnd('\n');
        // The name sits between the first '(' and the LAST ')': it may itself contain ") (".
        int open = text.IndexOf('(');
        int close = text.LastIndexOf(')');
        if (open <= 0 || close < open)
            throw new ProcfsFormatException(Source, 1, "expected \"pid (comm) state ...\"", text);

        var stat = new ProcessStat { Comm = text[(open + 1)..close].ToString() };
        if (!ProcfsText.TryParseDecimal(text[..open].Trim(' '), out long pid) || pid <= 0 || pid > int.MaxValue)
            throw new ProcfsFormatException(Source, 1, "the process id is not a number", text);
        stat.ProcessId = (int)pid;

        ReadOnlySpan<char> rest = text[(close + 1)..];
        // Fields 3.. of proc(5), zero-based here: 0 state, 1 ppid, 6 flags, 7 minflt, 9 majflt, 11 utime,
        // 12 stime, 17 num_threads, 19 starttime, 20 vsize, 21 rss.
        const int needed = 22;
        for (int field = 0; field < needed; field++)
        {
            ReadOnlySpan<char> token = ProcfsText.NextToken(ref rest);
            if (token.IsEmpty)
                throw new ProcfsFormatException(Source, 1, $"only {field} fields after the name, expected at least {needed}; the file is truncated", text);
            switch (field)
            {
                case 0:
                    if (token.Length != 1) throw new ProcfsFormatException(Source, 1, "the state is not one letter", text);
                    stat.State = token[0];
                    break;
                case 1: stat.ParentProcessId = (int)Signed(token, text); break;
                case 6: stat.Flags = Unsigned(token, text); break;
                case 7: stat.MinorFaults = Unsigned(token, text); break;
                case 9: stat.MajorFaults = Unsigned(token, text); break;
                case 11: stat.UserTime = Unsigned(token, text); break;
                case 12: stat.SystemTime = Unsigned(token, text); break;
                case 17: stat.Threads = (int)Signed(token, text); break;
                case 19: stat.StartTime = Unsigned(token, text); break;
                case 20: stat.VirtualSize = (long)Unsigned(token, text); break;
                case 21: stat.Rss = Signed(token, text) * pageSize; break;
            }
        }
        return stat;
    }

    private static ulong Unsigned(ReadOnlySpan<char> token, ReadOnlySpan<char> text) =>
        ProcfsText.ParseUnsigned(token, Source, 1, text);

    private static long Signed(ReadOnlySpan<char> token, ReadOnlySpan<char> text) =>
        ProcfsText.TryParseDecimal(token, out long value) ? value : throw new ProcfsFormatException(Source, 1, "expected a number", text);
}
