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

    [Fact]
    public void TailCallFrameSaysSo()
    {
        var frame = new StackFrame { Address = 0x4011f0, Symbol = "leak_calloc", Module = "app", IsTailCall = true };
        Assert.Equal("leak_calloc [tail call]", frame.ToString());
        Assert.Equal("app+0x1f0 [tail call]", new StackFrame { Module = "app", ModuleOffset = 0x1f0, IsTailCall = true }.ToString());
    }
}
