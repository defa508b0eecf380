using LeakTools.Model;
using Xunit;

namespace LeakTools.Tests;

public class StackFrameTests
{
    [Fact]
    public void NamedFrameShowsSymbolAndOffset()
    {
        var frame = new StackFrame { Address = 0x401234, Symbol = "fibonacci", Offset = 0x1c, Module = "app" };
        Assert.Equal("fibonacci+0x1c", frame.ToString());
    }

    [Fact]
    public void UnresolvedFrameShowsModuleAndOffsetNeverUnknown()
    {
        var frame = new StackFrame { Address = 0x7f0000001234, Module = "libfoo.so", ModuleOffset = 0x1234 };
        Assert.Equal("libfoo.so+0x1234", frame.ToString());
    }
}
