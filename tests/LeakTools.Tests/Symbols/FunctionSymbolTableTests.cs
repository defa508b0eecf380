using System;
using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

/// <summary>Nearest-symbol lookup over the committed fixtures, without a running process.</summary>
public class FunctionSymbolTableTests
{
    private static (string Name, ulong Offset) Lookup(ElfImage image, ElfImage? debug, string function, ulong delta)
    {
        ModuleSymbols symbols = ModuleSymbols.Build(image, debug);
        ElfImage source = debug ?? image;
        Assert.True(source.TryFindFunction(function, out ElfFunction f), function);
        Assert.True(image.TryGetFileOffset(f.Value, out ulong fileOffset));
        Assert.True(symbols.TryGetVirtualAddress(fileOffset + delta, out ulong address));
        Assert.True(symbols.Functions.TryFind(address, out string name, out ulong offset));
        return (name, offset);
    }

    [Theory]
    [InlineData("_ZN9leaktools7fixture5twiceIiEET_S2_", "leaktools::fixture::twice<int>")]
    [InlineData("_ZN9leaktools7fixture5twiceIdEET_S2_", "leaktools::fixture::twice<double>")]
    [InlineData("_ZN9leaktools7fixture9Allocator8allocateEi", "leaktools::fixture::Allocator::allocate")]
    [InlineData("_ZNK9leaktools7fixture9AllocatorclEi", "leaktools::fixture::Allocator::operator()")]
    [InlineData("_Z10overloadedi", "overloaded")]
    public void CxxSampleFunctionsComeBackDemangled(string mangled, string expected)
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-cpp"));
        Assert.Equal((expected, 0UL), Lookup(image, null, mangled, 0));
    }

    [Fact]
    public void SharedObjectExportResolvesWithOffset()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("libsample.so"));
        Assert.Equal(("sample_library_alloc", 3UL), Lookup(image, null, "sample_library_alloc", 3));
    }

    [Fact]
    public void StrippedBinaryTakesItsSymbolsFromTheDebugFile()
    {
        using ElfImage stripped = ElfImage.Open(ElfSamples.PathOf("sample-stripped"));
        using ElfImage debug = ElfImage.Open(ElfSamples.PathOf("sample-stripped.debug"));
        Assert.Equal(("child", 7UL), Lookup(stripped, debug, "child", 7));
        Assert.Equal(0, ModuleSymbols.Build(stripped, null).Functions.CountWhere(f => f.StartsWith("fib", StringComparison.Ordinal)));
    }

    [Fact]
    public void AddressesBetweenFunctionsOrBeforeTheFirstAreNotAttributed()
    {
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-nopie"));
        ModuleSymbols symbols = ModuleSymbols.Build(image, null);
        Assert.False(symbols.Functions.TryFind(0x1000, out _, out _));
        Assert.True(image.TryFindFunction("main", out ElfFunction main));
        Assert.False(symbols.Functions.TryFind(main.Value + main.Size + 0x10000, out _, out _));
    }

    [Fact]
    public void UnsizedLabelEndsWithItsSection()
    {
        // _init is an unsized FUNC in .init; the .plt right after it must not be attributed to it.
        using ElfImage image = ElfImage.Open(ElfSamples.PathOf("sample-nopie"));
        Assert.True(image.TryFindFunction("_init", out ElfFunction init));
        Assert.Equal(0UL, init.Size);
        ModuleSymbols symbols = ModuleSymbols.Build(image, null);
        Assert.True(symbols.Functions.TryFind(init.Value + 4, out string name, out _));
        Assert.Equal("_init", name);
        Assert.False(symbols.Functions.TryFind(init.Value + 0x20, out _, out _));
    }
}
