using System;
using System.Collections.Generic;
using System.IO;

namespace LeakTools.Procfs;

/// <summary>Small, allocation-light helpers over /proc/PID that every reader needs.</summary>
public static class ProcessDirectory
{
    public const string ProcRoot = "/proc";

    public static string PathOf(int pid, string entry) => $"{ProcRoot}/{pid}/{entry}";

    public static bool Exists(int pid) => pid > 0 && Directory.Exists($"{ProcRoot}/{pid}");

    public static IEnumerable<int> EnumerateProcessIds()
    {
        foreach (string dir in Directory.EnumerateDirectories(ProcRoot))
        {
            ReadOnlySpan<char> name = dir.AsSpan(ProcRoot.Length + 1);
            if (int.TryParse(name, out int pid)) yield return pid;
        }
    }

    /// <summary>The kernel's name for the process (/proc/PID/comm), or null when it is gone.</summary>
    public static string? TryReadComm(int pid)
    {
        try { return File.ReadAllText(PathOf(pid, "comm")).TrimEnd('\n'); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
