using System;
using System.IO;

namespace LeakTools.Tests.Symbols;

/// <summary>Paths of the committed ELF fixtures (built once by Samples/elf/make-samples.sh).</summary>
internal static class ElfSamples
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Samples", "elf");

    public static string PathOf(string name) => Path.Combine(Directory, name);

    public const string LibcPath = "/usr/lib/x86_64-linux-gnu/libc.so.6";
}
