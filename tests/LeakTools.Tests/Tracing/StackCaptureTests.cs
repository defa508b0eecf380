using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

public class StackCaptureTests
{
    [Fact]
    public void CallerComesFirst_AllocatorFrameDropped()
        => Assert.Equal(new ulong[] { 0x100, 0x200, 0x300 }, StackCapture.Merge(0x100, new ulong[] { 0xdead, 0x200, 0x300, 0 }));

    [Fact]
    public void CallerAlreadyInTheWalk_IsNotRepeated()
        => Assert.Equal(new ulong[] { 0x100, 0x200 }, StackCapture.Merge(0x100, new ulong[] { 0xdead, 0x100, 0x200 }));

    [Fact]
    public void NoStack_StillNamesTheCaller()
        => Assert.Equal(new ulong[] { 0x100 }, StackCapture.Merge(0x100, System.ReadOnlySpan<ulong>.Empty));

    [Fact]
    public void KernelStack_StopsAtTheFirstZero()
        => Assert.Equal(new ulong[] { 1, 2 }, StackCapture.Kernel(new ulong[] { 1, 2, 0, 0 }));
}
