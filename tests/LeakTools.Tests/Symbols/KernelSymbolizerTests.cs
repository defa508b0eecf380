using System;
using System.IO;
using LeakTools.Model;
using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

public class KernelSymbolizerTests
{
    private static KernelSymbolizer FromExcerpt()
    {
        using var reader = new StreamReader(Path.Combine(AppContext.BaseDirectory, "Samples", "proc", "symbols", "kallsyms-excerpt.txt"));
        return KernelSymbolizer.Parse(reader);
    }

    [Fact]
    public void ExcerptKeepsOnlyTextSymbols()
    {
        KernelSymbolizer kernel = FromExcerpt();
        // 9 text lines at 6 distinct addresses in vmlinux plus 2 module text lines; data (D, d) is dropped.
        Assert.Equal(6 + 2, kernel.Count);
        StackFrame data = kernel.Symbolize(0xffffffff82400000);
        Assert.NotEqual("__start_rodata", data.Symbol);
    }

    [Fact]
    public void VmlinuxSymbolIsNamedWithOffsetAndKernelModule()
    {
        StackFrame frame = FromExcerpt().Symbolize(0xffffffff8162dd10 + 0x2a);
        Assert.Equal("__kmalloc_noprof", frame.Symbol);
        Assert.Equal(0x2aUL, frame.Offset);
        Assert.Equal("[kernel]", frame.Module);
        Assert.True(frame.IsKernel);
        Assert.Equal(0x62dd10UL + 0x2a, frame.ModuleOffset); // from _text
        Assert.Equal("__kmalloc_noprof+0x2a", frame.ToString());
    }

    [Fact]
    public void SharedAddressPrefersTheNameWithFewestLeadingUnderscores()
    {
        StackFrame frame = FromExcerpt().Symbolize(0xffffffff81000000);
        Assert.Equal("srso_alias_untrain_ret", frame.Symbol);
        Assert.Equal("__entry_text_start", FromExcerpt().Symbolize(0xffffffff81000011).Symbol);
    }

    [Fact]
    public void KernelStackReadsLaterFramesAsReturnAddresses()
    {
        StackFrame[] frames = FromExcerpt().SymbolizeStack(new ulong[] { 0xffffffff8162e710, 0xffffffff8162e710 });
        Assert.Equal("kfree", frames[0].Symbol); // the instruction pointer itself
        Assert.Equal("__kmalloc_noprof", frames[1].Symbol); // a call ending the function before kfree
        Assert.Equal(0xffffffff8162e710UL - 0xffffffff8162dd10UL, frames[1].Offset);
        Assert.All(frames, f => Assert.True(f.IsKernel));
    }

    [Fact]
    public void ModuleSymbolCarriesItsModuleName()
    {
        StackFrame frame = FromExcerpt().Symbolize(0xffffffffc0a01004);
        Assert.Equal("nft_do_chain", frame.Symbol);
        Assert.Equal(4UL, frame.Offset);
        Assert.Equal("[nf_tables]", frame.Module);
        Assert.True(frame.IsKernel);
    }

    [Fact]
    public void AddressFarFromAnySymbolIsUnresolvedButShowsTheKernelAndOffset()
    {
        StackFrame below = FromExcerpt().Symbolize(0xffffffff80000000);
        Assert.Null(below.Symbol);
        Assert.Equal("[kernel]", below.Module);
        Assert.Equal("[kernel]+0xffffffff80000000", below.ToString());
        StackFrame far = FromExcerpt().Symbolize(0xffffffffc0a02000 + (2UL << 20));
        Assert.Null(far.Symbol);
    }

    [Fact]
    public void LiveKallsymsResolvesAKnownFunction()
    {
        KernelSymbolizer kernel = KernelSymbolizer.Load();
        Assert.True(kernel.Count > 10_000);
        ulong kfree = 0;
        foreach (string line in File.ReadLines(KernelSymbolizer.KallsymsPath))
        {
            if (line.EndsWith(" T kfree", StringComparison.Ordinal))
            {
                kfree = Convert.ToUInt64(line[..line.IndexOf(' ')], 16);
                break;
            }
        }
        Assert.NotEqual(0UL, kfree);
        StackFrame frame = kernel.Symbolize(kfree + 5);
        Assert.Equal("kfree", frame.Symbol);
        Assert.Equal(5UL, frame.Offset);
        Assert.Equal("[kernel]", frame.Module);
        Assert.True(frame.IsKernel);
        Assert.Same(kernel, KernelSymbolizer.Load()); // unchanged modules: the parsed table is reused
    }
}
