using System;
using System.IO;
using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

/// <summary>
/// Every single-byte corruption of the headers (ELF header, program headers, section headers) of a real
/// binary must end in a readable image or an InvalidDataException, never another exception or a crash.
/// </summary>
public class ElfCorruptionTests
{
    [Theory]
    [InlineData(0xff)]
    [InlineData(0x00)]
    [InlineData(0x7f)]
    public void CorruptedHeadersFailCleanly(byte value)
    {
        byte[] original = File.ReadAllBytes(ElfSamples.PathOf("sample-pie"));
        using ElfImage pristine = ElfImage.Open(ElfSamples.PathOf("sample-pie"));
        long shoff = BitConverter.ToInt64(original, 40);
        var offsets = new System.Collections.Generic.List<int>();
        for (int i = 0; i < 64 + 13 * 56 && i < original.Length; i++) offsets.Add(i);
        for (long i = shoff; i < original.Length; i++) offsets.Add((int)i);

        string path = Path.Combine(Path.GetTempPath(), $"leaktools-corrupt-{Guid.NewGuid():N}.elf");
        int opened = 0, rejected = 0;
        File.WriteAllBytes(path, original);
        try
        {
            using var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            foreach (int offset in offsets)
            {
                if (original[offset] == value) continue;
                // Corrupt one byte in place, and restore it after.
                RandomAccess.Write(writer.SafeFileHandle, new[] { value }, offset);
                try
                {
                    using ElfImage image = ElfImage.Open(path);
                    image.TryFindFunction("fibonacci", out _);
                    ModuleSymbols symbols = ModuleSymbols.Build(image, null);
                    symbols.Functions.TryFind(0x1179, out _, out _);
                    if (image.TryFindFunction("main", out ElfFunction main))
                    {
                        try { image.ReadAtVirtualAddress(main.Value, 16); }
                        catch (ArgumentOutOfRangeException) { } // main no longer inside a PT_LOAD
                    }
                    opened++;
                }
                catch (InvalidDataException ex)
                {
                    Assert.Contains(path, ex.Message);
                    rejected++;
                }
                RandomAccess.Write(writer.SafeFileHandle, new[] { original[offset] }, offset);
            }
        }
        finally
        {
            File.Delete(path);
        }
        Assert.True(rejected > 0, "some corruptions must be detected");
        Assert.True(opened > 0, "corruption of unused fields must not reject the file");
    }
}
