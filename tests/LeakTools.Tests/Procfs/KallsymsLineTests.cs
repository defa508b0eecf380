using System.Linq;
using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

/// <summary>The /proc/kallsyms line parser, on the recorded excerpt and on broken lines.</summary>
public class KallsymsLineTests
{
    [Fact]
    public void EveryLineOfTheRecordedExcerptParses()
    {
        string[] lines = Samples.Read("symbols/kallsyms-excerpt.txt").TrimEnd('\n').Split('\n');
        Assert.All(lines, line => Assert.True(KallsymsLine.TryParse(line, out _), line));
    }

    [Fact]
    public void KernelImageSymbolHasNoModule()
    {
        Assert.True(KallsymsLine.TryParse("ffffffff81000000 T _stext", out KallsymsLine symbol));
        Assert.Equal(0xffffffff81000000UL, symbol.Address);
        Assert.Equal('T', symbol.Type);
        Assert.True(symbol.IsText);
        Assert.Equal("_stext", symbol.Name.ToString());
        Assert.True(symbol.Module.IsEmpty);
    }

    [Fact]
    public void ModuleSymbolNamesItsModule()
    {
        string line = Samples.Read("symbols/kallsyms-excerpt.txt").TrimEnd('\n').Split('\n').Last();
        Assert.True(KallsymsLine.TryParse(line, out KallsymsLine symbol));
        Assert.Equal("nf_tables_net_ops", symbol.Name.ToString());
        Assert.Equal("[nf_tables]", symbol.Module.ToString());
        Assert.Equal('d', symbol.Type);
        Assert.False(symbol.IsText);
    }

    [Fact]
    public void HiddenAddressesParseAsZero()
    {
        // What a session without CAP_SYSLOG reads under kptr_restrict=1.
        Assert.True(KallsymsLine.TryParse("0000000000000000 T _stext", out KallsymsLine symbol));
        Assert.Equal(0UL, symbol.Address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ffffffff81000000")]
    [InlineData("ffffffff81000000 T")]
    [InlineData("ffffffff81000000 T ")]
    [InlineData(" T _stext")]
    [InlineData("ffffffffx1000000 T _stext")]
    [InlineData("1ffffffff81000000 T _stext")]
    [InlineData("ffffffff81000000 T \t[nf_tables]")]
    public void MalformedLinesAreRejected(string line)
    {
        Assert.False(KallsymsLine.TryParse(line, out _));
    }
}
