using System;
using System.Collections.Generic;
using System.Linq;

namespace LeakTools.Analysis;

/// <summary>
/// A MemoryLeak is a snapshot of what a stack holds, not an increment, so adding up several reports of one
/// process (Find-MemoryLeak -Interval -Count) would count the same memory again. This keeps, for each process
/// (host and process id), only the leaks of its latest report (the latest Timestamp).
/// </summary>
public static class LatestLeakReport
{
    public static List<MemoryLeakInput> Select(IEnumerable<MemoryLeakInput> leaks, out int leftOut)
    {
        var all = leaks.ToList();
        var latest = new Dictionary<(string Host, int ProcessId), DateTime>();
        foreach (MemoryLeakInput input in all)
        {
            var process = (input.ComputerName ?? "", input.Leak.ProcessId);
            if (!latest.TryGetValue(process, out DateTime seen) || input.Leak.Timestamp > seen) latest[process] = input.Leak.Timestamp;
        }
        var kept = all.Where(i => i.Leak.Timestamp == latest[(i.ComputerName ?? "", i.Leak.ProcessId)]).ToList();
        leftOut = all.Count - kept.Count;
        return kept;
    }
}
