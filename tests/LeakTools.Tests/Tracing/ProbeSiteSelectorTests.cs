using System;
using System.Linq;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>Entry bytes recorded from Debian 12's glibc 2.36 (objdump -d libc.so.6) and hand-made edge cases.</summary>
public class ProbeSiteSelectorTests
{
    private static byte[] Hex(string hex) => hex.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(b => Convert.ToByte(b, 16)).ToArray();

    [Fact]
    public void GlibcFree_MovesPastTestToTheJe()
    {
        // test %rdi,%rdi; je …; push %rbp; lea -0x10(%rdi),%rsi
        var choice = ProbeSiteSelector.Choose(Hex("48 85 ff 0f 84 bf 00 00 00 55 48 8d 77 f0 53"));
        Assert.Equal(3, choice.Displacement);
        Assert.True(choice.Emulated);
        Assert.StartsWith("test", choice.EntryInstruction);
        Assert.StartsWith("je", choice.ChosenInstruction);
    }

    [Fact]
    public void GlibcMalloc_PushAtEntryStaysAtEntry()
    {
        var choice = ProbeSiteSelector.Choose(Hex("41 54 55 53 48 89 fb 48 83 ec 10"));
        Assert.Equal(0, choice.Displacement);
        Assert.True(choice.Emulated);
        Assert.Contains("entry instruction", choice.Reason);
    }

    [Fact]
    public void GlibcPosixMemalign_MovesPastRipRelativeCompareToThePush()
    {
        // cmpb $0x0,0x140201(%rip); push %r12; mov %rdx,%r12
        var choice = ProbeSiteSelector.Choose(Hex("80 3d 01 02 14 00 00 41 54 49 89 d4 55"));
        Assert.Equal(7, choice.Displacement);
        Assert.Equal("push %r12", choice.ChosenInstruction);
    }

    [Fact]
    public void GlibcMmap_MovesPastR10AndFlagWritesToTheJne()
    {
        // mov %ecx,%r10d; test $0xfff,%r9d; jne …   (r10 is no argument register of the C ABI)
        var choice = ProbeSiteSelector.Choose(Hex("41 89 ca 41 f7 c1 ff 0f 00 00 75 14 b8 09 00 00 00 0f 05"));
        Assert.Equal(10, choice.Displacement);
        Assert.StartsWith("jne", choice.ChosenInstruction);
    }

    [Fact]
    public void GlibcReallocarray_FallsBackBecauseMulClobbersRdx()
    {
        // mov %rsi,%rax; mul %rdx (writes rdx:rax); mov %rax,%rsi; jo …
        var choice = ProbeSiteSelector.Choose(Hex("48 89 f0 48 f7 e2 48 89 c6 70 05"));
        Assert.Equal(0, choice.Displacement);
        Assert.False(choice.Emulated);
        Assert.Contains("rdx", choice.Reason);
    }

    [Fact]
    public void GlibcMunmap_FallsBackAtTheSyscall()
    {
        var choice = ProbeSiteSelector.Choose(Hex("b8 0b 00 00 00 0f 05 48 3d 01 f0 ff ff"));
        Assert.Equal(0, choice.Displacement);
        Assert.Contains("enters the kernel", choice.Reason);
    }

    [Fact]
    public void GlibcMremap_FallsBackBecauseSubChangesRsp()
    {
        var choice = ProbeSiteSelector.Choose(Hex("48 83 ec 58 4c 89 44 24 40"));
        Assert.Equal(0, choice.Displacement);
        Assert.Contains("rsp", choice.Reason);
    }

    [Fact]
    public void Endbr64_IsSkippedToThePush()
    {
        var choice = ProbeSiteSelector.Choose(Hex("f3 0f 1e fa 55 48 89 e5"));
        Assert.Equal(4, choice.Displacement);
        Assert.Equal("push %rbp", choice.ChosenInstruction);
    }

    [Theory]
    [InlineData("48 89 3d 00 10 00 00 55", "writes memory")]          // mov %rdi,0x1000(%rip)
    [InlineData("48 31 ff 55", "rdi")]                                // xor %rdi,%rdi
    [InlineData("4c 89 c1 55", "rcx")]                                // mov %r8,%rcx
    [InlineData("ff 25 00 10 00 00 55", "branches away")]             // jmp *0x1000(%rip)
    [InlineData("c3", "branches away")]                               // ret
    public void UnsafeInstructionBeforeAnyEmulatedOne_FallsBackToEntry(string bytes, string reasonPart)
    {
        var choice = ProbeSiteSelector.Choose(Hex(bytes));
        Assert.Equal(0, choice.Displacement);
        Assert.False(choice.Emulated);
        Assert.Contains(reasonPart, choice.Reason);
    }

    [Theory]
    [InlineData("55", true)]                   // push %rbp
    [InlineData("41 57", true)]                // push %r15
    [InlineData("66 55", false)]               // pushw %bp: 16-bit, not emulated
    [InlineData("e8 00 00 00 00", true)]       // call rel32
    [InlineData("eb 00", true)]                // jmp rel8
    [InlineData("e9 00 00 00 00", true)]       // jmp rel32
    [InlineData("74 02", true)]                // je rel8
    [InlineData("0f 84 00 00 00 00", true)]    // je rel32
    [InlineData("90", true)]                   // nop
    [InlineData("66 90", true)]                // xchg %ax,%ax
    [InlineData("e3 02", false)]               // jrcxz: not emulated
    [InlineData("48 85 ff", false)]            // test
    [InlineData("f3 0f 1e fa", false)]         // endbr64: single-stepped (measured)
    public void IsEmulated_FollowsTheKernelsList(string bytes, bool expected)
    {
        var choice = ProbeSiteSelector.Choose(Hex(bytes + " c3"));
        Assert.Equal(expected, choice.Displacement == 0 && choice.Emulated);
    }

    [Fact]
    public void TruncatedOrEmptyCode_FallsBackWithoutThrowing()
    {
        Assert.Equal(0, ProbeSiteSelector.Choose(Hex("48")).Displacement);
        Assert.False(ProbeSiteSelector.Choose(ReadOnlySpan<byte>.Empty).Emulated);
    }

    [Fact]
    public void GivesUpAfterMaxInstructions()
    {
        // nine harmless "mov %rax,%r11" before the push: beyond the look-ahead, so the entry stays.
        string movs = string.Join(' ', Enumerable.Repeat("49 89 c3", ProbeSiteSelector.MaxInstructions + 1));
        var choice = ProbeSiteSelector.Choose(Hex(movs + " 55"));
        Assert.Equal(0, choice.Displacement);
        Assert.Contains("within the first", choice.Reason);
    }
}
