using System;
using System.IO;
using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

public class ElfImageTests
{
    [Fact]
    public void PieSampleIsPositionIndependentWithBuildIdAndFunctions()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-pie"));
        Assert.True(image.IsPositionIndependent);
        Assert.Matches("^[0-9a-f]{40}$", image.BuildId);
        Assert.True(image.HasSymbolTable);
        Assert.True(image.TryFindFunction("fibonacci", out ElfFunction fib));
        Assert.Equal("fibonacci", fib.Name);
        Assert.True(fib.Size > 0);
        Assert.False(image.TryFindFunction("no_such_function_here", out _));
    }

    [Fact]
    public void NonPieSampleIsExecutableTypeAtFixedAddresses()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-nopie"));
        Assert.False(image.IsPositionIndependent);
        Assert.True(image.TryFindFunction("child", out ElfFunction child));
        Assert.True(child.Value >= 0x400000, $"non-PIE text is linked at 0x400000 and up, got 0x{child.Value:x}");
    }

    [Fact]
    public void FileOffsetAndCodeBytesFollowTheLoadSegments()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-nopie"));
        Assert.True(image.TryFindFunction("main", out ElfFunction main));
        Assert.True(image.TryGetFileOffset(main.Value, out ulong offset));
        Assert.True(image.TryGetVirtualAddress(offset, out ulong back));
        Assert.Equal(main.Value, back);

        byte[] viaImage = image.ReadAtVirtualAddress(main.Value, 16);
        byte[] file = File.ReadAllBytes(image.Path);
        Assert.Equal(file.AsSpan((int)offset, 16).ToArray(), viaImage);
        // -fno-omit-frame-pointer: main begins with push %rbp (0x55), possibly after endbr64.
        Assert.Contains((byte)0x55, viaImage[..5]);
        Assert.Throws<ArgumentOutOfRangeException>(() => image.ReadAtVirtualAddress(0x10, 4));
        Assert.False(image.TryGetFileOffset(0x10, out _));
    }

    [Fact]
    public void DebugLinkCrcIsTheStandardCrc32()
    {
        Assert.Equal(0xCBF43926u, GnuDebugLinkCrc.Of("123456789"u8));
        Assert.Equal(0u, GnuDebugLinkCrc.Of(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void StrippedSampleKeepsOnlyDynamicSymbolsAndPointsAtItsDebugFile()
    {
        using ElfImage stripped = ElfImage.Open(ElfSamples.PathOf("sample-stripped"));
        using ElfImage debug = ElfImage.Open(ElfSamples.PathOf("sample-stripped.debug"));
        Assert.False(stripped.HasSymbolTable);
        Assert.False(stripped.TryFindFunction("fibonacci", out _));
        Assert.Equal("sample-stripped.debug", stripped.DebugLink);
        Assert.Equal(stripped.DebugLinkCrc, debug.ComputeFileCrc());
        Assert.NotNull(stripped.BuildId);
        Assert.Equal(stripped.BuildId, debug.BuildId);
        Assert.True(debug.TryFindFunction("fibonacci", out ElfFunction fib));
        Assert.True(fib.Size > 0);
    }

    [Fact]
    public void SharedObjectExportsAndLocalFunctions()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("libsample.so"));
        Assert.True(image.IsPositionIndependent);
        Assert.True(image.TryFindFunction("sample_library_alloc", out _));
    }

    [Fact]
    public void LibcMallocIsFoundWithAndWithoutItsVersion()
    {
        using ElfImage libc = ElfImage.Open(ElfSamples.LibcPath);
        Assert.True(libc.TryFindFunction("malloc", out ElfFunction plain));
        Assert.True(libc.TryFindFunction("malloc@@GLIBC_2.2.5", out ElfFunction versioned));
        Assert.Equal(plain.Value, versioned.Value);
        Assert.True(plain.Size > 0);
        Assert.Equal(plain.Size, (ulong)libc.ReadAtVirtualAddress(plain.Value, (int)plain.Size).Length);
    }

    [Fact]
    public void UnversionedQueryPrefersTheDefaultVersionOfLibcMemcpy()
    {
        using ElfImage libc = ElfImage.Open(ElfSamples.LibcPath);
        Assert.True(libc.TryFindFunction("memcpy", out ElfFunction current));
        Assert.True(libc.TryFindFunction("memcpy@GLIBC_2.2.5", out ElfFunction legacy));
        Assert.True(libc.TryFindFunction("memcpy@@GLIBC_2.14", out ElfFunction explicitCurrent));
        Assert.Equal(explicitCurrent.Value, current.Value);
        Assert.NotEqual(legacy.Value, current.Value);
    }

    [Theory]
    [InlineData("empty.elf", "empty")]
    [InlineData("garbage.bin", "not an ELF file")]
    [InlineData("truncated-header.elf", "truncated")]
    [InlineData("truncated-program-headers.elf", "truncated")]
    [InlineData("truncated-sections.elf", "truncated")]
    [InlineData("elf32-header.elf", "32-bit")]
    public void MalformedFilesGiveClearInvalidDataException(string sample, string messagePart)
    {
        var ex = Assert.Throws<InvalidDataException>(() => ElfImage.Open(ElfSamples.PathOf(sample)));
        Assert.Contains(messagePart, ex.Message);
        Assert.Contains(sample, ex.Message);
    }

    [Fact]
    public void MissingFileGivesFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => ElfImage.Open(ElfSamples.PathOf("does-not-exist")));
    }
}
