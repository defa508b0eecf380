using System;
using Iced.Intel;

namespace LeakTools.Stacks;

/// <summary>
/// Reads x86-64 code backwards from a return address: a real return address always follows a call, so the
/// instruction that ends there must be one. Also recognizes PLT stubs (<c>[endbr64] [bnd] jmp *slot(%rip)</c>),
/// the one jump a call's target may be before the function it reaches. Decoding is Iced's; this only asks it.
/// </summary>
public static class X86CallDecoder
{
    /// <summary>The longest x86 instruction; more bytes than that before a return address are never needed.</summary>
    public const int MaxInstructionLength = 15;

    /// <summary>
    /// Finds the call instruction that ends at <paramref name="returnAddress"/>. <paramref name="code"/> holds the
    /// bytes right before it (its last byte is at <paramref name="returnAddress"/> - 1), ideally
    /// <see cref="MaxInstructionLength"/> of them; fewer (a module's first bytes) just limit the lengths tried.
    /// Every length is tried; when several decode as calls that disagree, the call is <see cref="CallKind.Ambiguous"/>
    /// (the longest of several that agree is kept: it is the one with its prefixes).
    /// </summary>
    /// <returns>False when no call instruction ends there: the value is not a return address.</returns>
    public static bool TryDecodeCallBefore(ReadOnlySpan<byte> code, ulong returnAddress, out CallInstruction call)
    {
        call = default;
        bool found = false;
        int longest = Math.Min(code.Length, MaxInstructionLength);
        if ((ulong)longest > returnAddress) longest = (int)returnAddress;
        for (int length = 2; length <= longest; length++)
        {
            ulong start = returnAddress - (ulong)length;
            if (!TryDecodeOne(code[^length..], start, out Instruction instruction) || instruction.Length != length) continue;
            if (instruction.FlowControl is not (FlowControl.Call or FlowControl.IndirectCall)) continue;
            CallInstruction candidate = Classify(instruction);
            if (!found)
            {
                call = candidate;
                found = true;
            }
            else if (call.Kind != CallKind.Ambiguous && candidate.Kind == call.Kind && candidate.Target == call.Target)
            {
                call = candidate; // the same call with its prefixes (41 ff d4 is call *%r12, ff d4 alone call *%rsp)
            }
            else
            {
                call = new CallInstruction(CallKind.Ambiguous, 0, 0);
            }
        }
        return found;
    }

    /// <summary>
    /// True when the code at <paramref name="address"/> is a PLT-style stub: an optional <c>endbr64</c>, then a jump
    /// through a slot at a known address (<c>jmp *disp(%rip)</c>, with or without the <c>bnd</c> prefix). Covers
    /// .plt (lazy), .plt.sec (IBT) and .plt.got entries; <paramref name="slot"/> is the GOT entry it jumps through.
    /// </summary>
    public static bool TryDecodeSlotJump(ReadOnlySpan<byte> code, ulong address, out ulong slot)
    {
        slot = 0;
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code.ToArray()), address, DecoderOptions.None);
        decoder.Decode(out Instruction first);
        if (first.IsInvalid) return false;
        Instruction jump = first;
        if (first.Code == Code.Endbr64)
        {
            decoder.Decode(out jump);
            if (jump.IsInvalid) return false;
        }
        if (jump.Mnemonic != Mnemonic.Jmp || jump.Op0Kind != OpKind.Memory) return false;
        return TrySlotAddress(jump, out slot);
    }

    /// <summary>
    /// True when the code at an address is the x86-64 signal return trampoline (glibc's __restore_rt:
    /// <c>mov $15, %rax; syscall</c>, rt_sigreturn), the "return address" the kernel gives a signal handler. It
    /// follows no call, and the frame outer to it is the interrupted instruction, which follows none either.
    /// </summary>
    public static bool IsSignalReturnTrampoline(ReadOnlySpan<byte> code) =>
        code.StartsWith(stackalloc byte[] { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 })
        || code.StartsWith(stackalloc byte[] { 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 });

    /// <summary>Bytes <see cref="IsSignalReturnTrampoline"/> needs.</summary>
    public const int SignalReturnTrampolineLength = 9;

    private static bool TryDecodeOne(ReadOnlySpan<byte> bytes, ulong ip, out Instruction instruction)
    {
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes.ToArray()), ip, DecoderOptions.None);
        decoder.Decode(out instruction);
        return !instruction.IsInvalid;
    }

    private static CallInstruction Classify(in Instruction instruction)
    {
        if (instruction.FlowControl == FlowControl.Call && instruction.Op0Kind is OpKind.NearBranch64)
            return new CallInstruction(CallKind.Direct, instruction.Length, instruction.NearBranch64);
        if (instruction.Op0Kind == OpKind.Memory && TrySlotAddress(instruction, out ulong slot))
            return new CallInstruction(CallKind.ThroughSlot, instruction.Length, slot);
        return new CallInstruction(CallKind.Indirect, instruction.Length, 0);
    }

    /// <summary>A memory operand with a fixed address: rip-relative, or absolute (no base, no index).</summary>
    private static bool TrySlotAddress(in Instruction instruction, out ulong slot)
    {
        if (instruction.IsIPRelativeMemoryOperand)
        {
            slot = instruction.IPRelativeMemoryAddress;
            return true;
        }
        if (instruction.MemoryBase == Register.None && instruction.MemoryIndex == Register.None && instruction.SegmentPrefix is Register.None or Register.DS)
        {
            slot = instruction.MemoryDisplacement64;
            return true;
        }
        slot = 0;
        return false;
    }
}
