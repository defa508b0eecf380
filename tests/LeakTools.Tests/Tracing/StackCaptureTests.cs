using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

public class StackCaptureTests
{
    [Fact]
    public void UserStackIsTheStoredStackWhenThereIsOne()
        => Assert.Equal(new ulong[] { 0x100, 0x200, 0x300 }, StackCapture.Frames(0x100, new ulong[] { 0x100, 0x200, 0x300 }));

    [Fact]
    public void RecursionIsKept()
        => Assert.Equal(new ulong[] { 0x100, 0x100, 0x200 }, StackCapture.Frames(0x100, new ulong[] { 0x100, 0x100, 0x200 }));

    [Fact]
    public void LostStackKeepsTheDirectCaller()
        => Assert.Equal(new ulong[] { 0x100 }, StackCapture.Frames(0x100, System.ReadOnlySpan<ulong>.Empty));

    [Fact]
    public void NothingKnownIsEmpty()
        => Assert.Empty(StackCapture.Frames(0, System.ReadOnlySpan<ulong>.Empty));

    [Fact]
    public void KernelStackIsKeptAsStored()
        => Assert.Equal(new ulong[] { 1, 2 }, StackCapture.Frames(0, new ulong[] { 1, 2 }));
}
