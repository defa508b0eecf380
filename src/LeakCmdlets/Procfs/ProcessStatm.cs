using System;

namespace LeakTools.Procfs;

/// <summary>/proc/PID/statm, converted from pages to bytes.</summary>
public sealed class ProcessStatm
{
    private const string Source = "/proc/PID/statm";

    public long Size { get; set; }
    public long Resident { get; set; }
    /// <summary>Resident file-backed and shared pages (RssFile + RssShmem).</summary>
    public long Shared { get; set; }
    public long Text { get; set; }
    /// <summary>Data plus stack.</summary>
    public long Data { get; set; }

    public static ProcessStatm Parse(ReadOnlySpan<char> text, int pageSize)
    {
        ReadOnlySpan<char> rest = text.TrimEnd('\n');
        Span<long> pages = stackalloc long[7];
        for (int i = 0; i < pages.Length; i++)
        {
            ReadOnlySpan<char> token = ProcfsText.NextToken(ref rest);
            if (token.IsEmpty)
                throw new ProcfsFormatException(Source, 1, $"expected 7 numbers, found {i}; the file is truncated", text);
            pages[i] = (long)ProcfsText.ParseUnsigned(token, Source, 1, text);
        }
        return new ProcessStatm
        {
            Size = pages[0] * pageSize,
            Resident = pages[1] * pageSize,
            Shared = pages[2] * pageSize,
            Text = pages[3] * pageSize,
            Data = pages[5] * pageSize,
        };
    }
}
