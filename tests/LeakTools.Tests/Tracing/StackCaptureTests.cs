using System;
using LeakTools.Stacks;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>StackReader.Build has three outcomes: the stored stack, the caller alone, nothing.</summary>
public class StackCaptureTests
{
    [Fact]
    public void AStoredStackIsShownAsStoredRepeatsIncludedAndTheCallerIsNotAddedAgain()
        => Assert.Equal(new ulong[] { 0x100, 0x100, 0x200 }, StackReader.Build(0x900, new ulong[] { 0x100, 0x100, 0x200 }, kernel: false).Frames);

    [Fact]
    public void AStackNotKeptLeavesTheDirectCallerAlone()
        => Assert.Equal(new ulong[] { 0x100 }, StackReader.Build(0x100, ReadOnlySpan<ulong>.Empty, kernel: false).Frames);

    [Fact]
    public void NeitherStackNorCallerGivesNoFrames()
        => Assert.Empty(StackReader.Build(0, ReadOnlySpan<ulong>.Empty, kernel: false).Frames);
}
