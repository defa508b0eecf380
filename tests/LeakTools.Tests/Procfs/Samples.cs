using System;
using System.IO;

namespace LeakTools.Tests.Procfs;

/// <summary>Recorded /proc files under Samples/proc, copied beside the test assembly.</summary>
internal static class Samples
{
    public static string PathOf(string relative) =>
        Path.Combine(AppContext.BaseDirectory, "Samples", "proc", relative);

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));
}
