using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

/// <summary>
/// Every single-byte corruption of the headers (ELF header, program headers, section headers) of a real
/// binary must end in a readable image or an InvalidDataException, never another exception or a crash; so must
/// a corrupt symbol or string table, found only when the symbols are read; and a corrupt module costs the
/// symbolizer that module's names, said once.
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

    /// <summary>A symbol-table field to corrupt: which section, the byte offset in its header, the value written there.</summary>
    public static IEnumerable<object[]> SymbolTableCorruptions()
    {
        foreach (string table in new[] { ".symtab", ".dynsym" })
        {
            yield return new object[] { table, 56, 0x20UL };              // sh_entsize: not 24
            yield return new object[] { table, 40, 0xffffUL };            // sh_link: no such string table
            yield return new object[] { table, 32, 0x7fff_0000UL };       // sh_size: beyond the end of the file
            yield return new object[] { table, 24, 0xffff_ffff_0000UL };  // sh_offset: beyond the end of the file
        }
        yield return new object[] { ".strtab", 32, 0x7fff_0000UL };       // the names of .symtab beyond the end
        yield return new object[] { ".dynstr", 24, 0xffff_ffff_0000UL };
    }

    [Theory]
    [MemberData(nameof(SymbolTableCorruptions))]
    public void CorruptSymbolTablesFailFunctionLookupWithInvalidData(string section, int field, ulong value)
    {
        string path = CorruptCopy("libsample.so", section, field, value);
        try
        {
            // The headers still parse: only reading the symbols finds the damage.
            using ElfImage image = ElfImage.Open(path);
            InvalidDataException ex = Assert.Throws<InvalidDataException>(() =>
            {
                image.TryFindFunction("sample_library_alloc", out _);
                image.TryFindFunction("no_such_function", out _); // walks every table
            });
            Assert.Contains(path, ex.Message);
            Assert.Throws<InvalidDataException>(() => ModuleSymbols.Build(image, null));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ACorruptModuleLeavesItsFramesUnnamedAndSaysWhyOnce()
    {
        string path = CorruptCopy("sample-pie", ".symtab", 56, 0x20);
        var said = new List<string>();
        try
        {
            // Its own build-id: otherwise the symbols of the intact sample, cached by build-id by other tests, would serve it.
            byte[] elf = File.ReadAllBytes(path);
            using (ElfImage intact = ElfImage.Open(ElfSamples.PathOf("sample-pie")))
            {
                byte[] id = Convert.FromHexString(intact.BuildId!);
                int at = elf.AsSpan().IndexOf(id);
                Assert.True(at > 0);
                elf[at] ^= 0xff;
            }
            File.WriteAllBytes(path, elf);

            var options = new SymbolizerOptions { IncludeSourceLines = false, Verbose = said.Add };
            using SymbolizerModule module = SymbolizerModule.Open("/app/sample-pie", new[] { path }, null, options);
            Assert.Null(module.GetSymbols());
            Assert.Null(module.GetSymbols());
            Assert.Contains("entry size", module.Error);
            string message = Assert.Single(said);
            Assert.Contains("/app/sample-pie", message);
            Assert.Contains("unnamed", message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A temp copy of sample <paramref name="name"/> with 8 bytes at <paramref name="field"/> of <paramref name="section"/>'s header set to <paramref name="value"/>.</summary>
    internal static string CorruptCopy(string name, string section, int field, ulong value)
    {
        byte[] elf = File.ReadAllBytes(ElfSamples.PathOf(name));
        int header = SectionHeaderOffset(elf, section);
        int width = field is 40 or 44 ? 4 : 8; // sh_link and sh_info are 32-bit
        if (width == 4) BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(header + field), (uint)value);
        else BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(header + field), value);
        string path = Path.Combine(Path.GetTempPath(), $"leaktools-corrupt-{Guid.NewGuid():N}-{name}");
        File.WriteAllBytes(path, elf);
        return path;
    }

    /// <summary>File offset of the header of the section named <paramref name="name"/> (read by hand, not by the code under test).</summary>
    private static int SectionHeaderOffset(byte[] elf, string name)
    {
        int shoff = (int)BitConverter.ToInt64(elf, 40);
        int shentsize = BitConverter.ToUInt16(elf, 58), shnum = BitConverter.ToUInt16(elf, 60), shstrndx = BitConverter.ToUInt16(elf, 62);
        int names = (int)BitConverter.ToInt64(elf, shoff + shstrndx * shentsize + 24);
        for (int i = 0; i < shnum; i++)
        {
            int at = shoff + i * shentsize;
            int start = names + BitConverter.ToInt32(elf, at);
            int end = Array.IndexOf(elf, (byte)0, start);
            if (Encoding.ASCII.GetString(elf, start, end - start) == name) return at;
        }
        throw new ArgumentException($"No section {name}.");
    }
}
