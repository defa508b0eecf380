using System;
using LeakTools.Stacks;
using Xunit;

namespace LeakTools.Tests.Stacks;

/// <summary>The call before a return address, decoded backwards from byte sequences recorded from gcc's output.</summary>
public class X86CallDecoderTests
{
    private static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    /// <summary>The instruction bytes preceded by filler (as in a function body), ending at the return address.</summary>
    private static byte[] Before(string instruction, string filler = "48 89 e5 bf 01 00 00 00 48 89 e5") => Bytes(filler + instruction);

    [Fact]
    public void CallRel32GivesItsTarget()
    {
        // tail_calls: 1239: e8 b2 ff ff ff   call 11f0 <local_tail_calloc>
        Assert.True(X86CallDecoder.TryDecodeCallBefore(Before("e8 b2 ff ff ff"), 0x123e, out CallInstruction call));
        Assert.Equal(new CallInstruction(CallKind.Direct, 5, 0x11f0), call);
    }

    [Fact]
    public void BndCallRel32GivesItsTarget()
    {
        Assert.True(X86CallDecoder.TryDecodeCallBefore(Before("f2 e8 b2 ff ff ff"), 0x123f, out CallInstruction call));
        Assert.Equal(CallKind.Direct, call.Kind);
        Assert.Equal(0x11f1UL, call.Target);
    }

    [Fact]
    public void CallThroughRipSlotGivesTheSlot()
    {
        // tail_calls: 1299: ff 15 31 2d 00 00   call *0x2d31(%rip)  # 3fd0 <lib_tail_calloc_got>
        Assert.True(X86CallDecoder.TryDecodeCallBefore(Before("ff 15 31 2d 00 00"), 0x129f, out CallInstruction call));
        Assert.Equal(new CallInstruction(CallKind.ThroughSlot, 6, 0x3fd0), call);
    }

    [Fact]
    public void CallThroughAbsoluteSlotGivesTheSlot()
    {
        // call *0x601018 (a non-PIE GOT entry): ff 14 25 18 10 60 00
        Assert.True(X86CallDecoder.TryDecodeCallBefore(Before("ff 14 25 18 10 60 00"), 0x401000, out CallInstruction call));
        Assert.Equal(new CallInstruction(CallKind.ThroughSlot, 7, 0x601018), call);
    }

    [Theory]
    [InlineData("ff d0")]            // call *%rax
    [InlineData("41 ff d4")]         // call *%r12
    [InlineData("ff 53 08")]         // call *0x8(%rbx)
    [InlineData("ff 54 24 10")]      // call *0x10(%rsp)
    [InlineData("3e ff d0")]         // notrack call *%rax
    [InlineData("ff 94 c3 00 01 00 00")] // call *0x100(%rbx,%rax,8)
    public void IndirectCallsHaveNoKnownTarget(string instruction)
    {
        Assert.True(X86CallDecoder.TryDecodeCallBefore(Before(instruction), 0x5000, out CallInstruction call));
        Assert.Equal(CallKind.Indirect, call.Kind);
        Assert.Equal(0UL, call.Target);
        Assert.Equal(instruction.Replace(" ", "").Length / 2, call.Length);
    }

    [Theory]
    [InlineData("48 89 c7")]                      // mov %rax,%rdi
    [InlineData("c3")]                            // ret (a function's end: the next function's entry follows)
    [InlineData("66 0f 1f 44 00 00")]             // nopw 0x0(%rax,%rax,1), padding before a function
    [InlineData("e9 ab fe ff ff")]                // jmp rel32: a jump pushes no return address
    [InlineData("ff 25 ca 2f 00 00")]             // jmp *0x2fca(%rip)
    [InlineData("00 00 00 00 00 00 00 00")]       // zeros
    [InlineData("43 6f 6d 70 69 6c 61 74")]       // ASCII "Compilat"
    public void BytesThatEndInNoCallAreNoReturnAddress(string instruction)
    {
        Assert.False(X86CallDecoder.TryDecodeCallBefore(Before(instruction, filler: "90 90 90 90 90 90 90"), 0x5000, out _));
    }

    [Fact]
    public void TruncatedInputDecodesOnlyWhatIsThere()
    {
        Assert.False(X86CallDecoder.TryDecodeCallBefore(ReadOnlySpan<byte>.Empty, 0x5000, out _));
        Assert.False(X86CallDecoder.TryDecodeCallBefore(Bytes("d0"), 0x5000, out _));
        // The last four bytes of a call rel32 without its opcode byte.
        Assert.False(X86CallDecoder.TryDecodeCallBefore(Bytes("b2 ff ff ff"), 0x123e, out _));
        // Exactly the call, nothing before it.
        Assert.True(X86CallDecoder.TryDecodeCallBefore(Bytes("ff 15 31 2d 00 00"), 0x129f, out CallInstruction call));
        Assert.Equal(CallKind.ThroughSlot, call.Kind);
        // A return address in the first bytes of the address space has no room for a call before it.
        Assert.False(X86CallDecoder.TryDecodeCallBefore(Before("ff d0"), 1, out _));
    }

    [Fact]
    public void BytesThatDecodeAsTwoDifferentCallsAreAmbiguous()
    {
        // As a call rel32 (e8 00 00 ff d0) and as call *%rax (ff d0): which one ran cannot be told.
        Assert.True(X86CallDecoder.TryDecodeCallBefore(Before("e8 00 00 ff d0"), 0x5000, out CallInstruction call));
        Assert.Equal(CallKind.Ambiguous, call.Kind);
        Assert.Equal(0UL, call.Target);
    }

    [Theory]
    // Lazy .plt entry (libtailcall.so): jmp *0x2fc2(%rip); push $0x1; jmp .plt
    [InlineData("ff 25 c2 2f 00 00 68 01 00 00 00 e9 d0 ff ff ff", 0x1040UL, 0x4008UL)]
    // .plt.sec entry with IBT: endbr64; bnd jmp *0x2fc2(%rip)
    [InlineData("f3 0f 1e fa f2 ff 25 c2 2f 00 00 0f 1f 44 00 00", 0x1040UL, 0x400dUL)]
    // .plt.got entry: jmp *0x2f5a(%rip); xchg %ax,%ax
    [InlineData("ff 25 5a 2f 00 00 66 90", 0x1080UL, 0x3fe0UL)]
    public void PltStubsGiveTheirSlot(string code, ulong address, ulong slot)
    {
        Assert.True(X86CallDecoder.TryDecodeSlotJump(Bytes(code), address, out ulong found));
        Assert.Equal(slot, found);
    }

    [Theory]
    [InlineData("be 01 00 00 00 e9 e6 fe ff ff")]   // a function: mov $0x1,%esi; jmp calloc@plt
    [InlineData("55 48 89 e5 e8 e7 fe ff ff")]      // push %rbp; ...
    [InlineData("f3 0f 1e fa 55 48 89 e5")]         // endbr64, then a real function
    [InlineData("ff e0")]                           // jmp *%rax: no fixed slot
    [InlineData("ff 25 c2")]                        // truncated
    [InlineData("")]
    public void OtherCodeIsNoPltStub(string code)
    {
        Assert.False(X86CallDecoder.TryDecodeSlotJump(Bytes(code), 0x1000, out _));
    }

    [Theory]
    [InlineData("48 c7 c0 0f 00 00 00 0f 05 0f 1f 80 00 00 00 00", true)] // glibc's __restore_rt
    [InlineData("b8 0f 00 00 00 0f 05", true)]                            // the same with mov $15,%eax
    [InlineData("48 c7 c0 0e 00 00 00 0f 05", false)]                     // rt_sigprocmask, not rt_sigreturn
    [InlineData("48 c7 c0 0f 00 00 00", false)]                           // truncated before the syscall
    public void SignalReturnTrampolineIsRecognized(string code, bool expected)
    {
        Assert.Equal(expected, X86CallDecoder.IsSignalReturnTrampoline(Bytes(code)));
    }
}
