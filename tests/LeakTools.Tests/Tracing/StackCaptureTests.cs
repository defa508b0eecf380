using System;
using LeakTools.Stacks;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>StackCapture.Frames has three outcomes: the stored stack, the caller alone, nothing.</summary>
public class StackCaptureTests
{
    [Fact]
    public void AStoredStackIsShownAsStoredRepeatsIncludedAndTheCallerIsNotAddedAgain()
        => Assert.Equal(new ulong[] { 0x100, 0x100, 0x200 }, StackCapture.Frames(0x900, new ulong[] { 0x100, 0x100, 0x200 }));

    [Fact]
    public void AStackNotKeptLeavesTheDirectCallerAlone()
        => Assert.Equal(new ulong[] { 0x100 }, StackCapture.Frames(0x100, ReadOnlySpan<ulong>.Empty));

    [Fact]
    public void NeitherStackNorCallerGivesNoFrames()
        => Assert.Empty(StackCapture.Frames(0, ReadOnlySpan<ulong>.Empty));
}
