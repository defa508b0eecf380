using System;
using System.Collections.Generic;
using Iced.Intel;

namespace LeakTools.Tracing;

/// <summary>
/// Picks where on a function's entry path to place a uprobe. The x86 kernel emulates a few instructions
/// (push reg, jmp/jcc/call rel, nop) in the trap handler; any other instruction is single-stepped out of line,
/// which costs ~30× more per hit on this class of machine (22 µs vs 0.6 µs for glibc's free). So when the
/// first instruction is not emulated, move the probe forward to the first emulated one, provided that every
/// instruction skipped is "invisible" to what the probe reads:
/// <list type="bullet">
/// <item>falls through (no branch away from the entry path, no syscall);</item>
/// <item>writes no argument register the function's entry program reads (the first <c>argumentsRead</c> of rdi,
/// rsi, rdx, rcx, r8, r9: jemalloc's free starts with <c>mov %rdi,%rax</c> and writes rdx and rcx before its first
/// branch, and free reads rdi alone);</item>
/// <item>writes neither rsp nor memory — [rsp] must still be the return address, for the uretprobe, which
/// hijacks the return address at [rsp] when the probe hits (and for a free's caller, read there).</item>
/// </list>
/// Anything else, or an undecodable byte, falls back to the entry.
/// </summary>
public static class ProbeSiteSelector
{
    /// <summary>
    /// The 0f 1f multi-byte nops count as emulated. Measured on kernel 6.18 with scripts/Measure-UprobeCost.ps1:
    /// a probe on nopl costs ~2 µs (nop5 ~0.5 µs, optimized) against ~20 µs for single-stepped instructions.
    /// On kernels that single-step them, choosing one costs no more than the entry would, so this is a constant.
    /// </summary>
    private const bool EmulatesMultiByteNop = true;

    /// <summary>
    /// How many instructions to look at before giving up. Prologues are short, but jemalloc's free computes its
    /// thread cache's slot in nine instructions before its first branch.
    /// </summary>
    public const int MaxInstructions = 12;

    /// <summary>The System V x86-64 argument registers, in order.</summary>
    public static readonly IReadOnlyList<Register> ArgumentRegisters = new[]
    {
        Register.RDI, Register.RSI, Register.RDX, Register.RCX, Register.R8, Register.R9,
    };

    /// <param name="code">Bytes from the function's entry (at least ~64, or the whole function).</param>
    /// <param name="entryAddress">The entry's virtual address (only used to print branch targets).</param>
    /// <param name="argumentsRead">
    /// How many argument registers the probe reads (<see cref="AllocatorProbe.ArgumentCount"/>); only those, rsp and
    /// memory must survive the instructions skipped. All six when unknown.
    /// </param>
    public static ProbeSiteChoice Choose(ReadOnlySpan<byte> code, ulong entryAddress = 0, int argumentsRead = 6)
    {
        var kept = new HashSet<Register> { Register.RSP };
        for (int i = 0; i < Math.Clamp(argumentsRead, 0, ArgumentRegisters.Count); i++) kept.Add(ArgumentRegisters[i]);
        string keptText = KeptText(kept);
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code.ToArray()), entryAddress, DecoderOptions.None);
        var infoFactory = new InstructionInfoFactory();
        string entryText = "";
        int displacement = 0;
        for (int i = 0; i < MaxInstructions && displacement < code.Length; i++)
        {
            decoder.Decode(out Instruction instruction);
            if (instruction.IsInvalid || displacement + instruction.Length > code.Length)
            {
                return Fallback(entryText.Length > 0 ? entryText : "(undecodable)", $"cannot decode the instruction at +0x{displacement:x}");
            }
            string text = Format(instruction);
            if (i == 0) entryText = text;

            if (IsEmulated(instruction, code.Slice(displacement, instruction.Length)))
            {
                string reason = i == 0
                    ? $"entry instruction '{text}' is emulated by the kernel"
                    : $"'{entryText}' would be single-stepped; +0x{displacement:x} '{text}' is the first emulated instruction and the ones before it keep {keptText} and [rsp]";
                return new ProbeSiteChoice(displacement, entryText, text, true, reason);
            }

            string? why = WhyNotSkippable(instruction, infoFactory, kept);
            if (why is not null)
            {
                return Fallback(entryText, $"no emulated instruction before +0x{displacement:x} '{text}', which {why}");
            }
            displacement += instruction.Length;
        }
        return Fallback(entryText, $"no emulated instruction within the first {MaxInstructions} instructions");

        static ProbeSiteChoice Fallback(string entry, string reason)
            => new(0, entry, entry, false, $"entry (single-stepped): {reason}");
    }

    /// <summary>
    /// Mirrors arch/x86/kernel/uprobes.c (branch_setup_xol_ops, push_setup_xol_ops): the instructions the kernel
    /// emulates instead of single-stepping. Checked against measured per-hit costs on the target kernel.
    /// </summary>
    public static bool IsEmulated(in Instruction instruction, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return false;
        switch (instruction.Code)
        {
            case Code.Push_r64:
                // 50+r, or 41 50+r; nothing else (no 66, no other REX bits).
                return bytes.Length == 1 || (bytes.Length == 2 && bytes[0] == 0x41);
            case Code.Nopd:
            case Code.Nopw:
            case Code.Nopq:
                return EmulatesMultiByteNop;
        }
        // "prefix* + nop": 0x90 with any prefixes (xchg eax,eax / pause included).
        if (instruction.Mnemonic is Mnemonic.Nop or Mnemonic.Pause && LastOpcodeIs(bytes, 0x90)) return true;
        if (instruction.Code == Code.Xchg_r16_AX || instruction.Code == Code.Xchg_r32_EAX)
        {
            if (LastOpcodeIs(bytes, 0x90)) return true;
        }

        bool branch = instruction.FlowControl switch
        {
            FlowControl.UnconditionalBranch => instruction.Op0Kind == OpKind.NearBranch64,
            FlowControl.ConditionalBranch => instruction.Op0Kind == OpKind.NearBranch64 && IsJcc(instruction),
            FlowControl.Call => instruction.Op0Kind == OpKind.NearBranch64,
            _ => false,
        };
        if (!branch) return false;
        // 16-bit overrides (66 e8 …) are rejected by the kernel.
        foreach (byte b in PrefixBytes(bytes)) if (b == 0x66) return false;
        return true;
    }

    private static bool IsJcc(in Instruction instruction)
        => instruction.IsJccShortOrNear;   // excludes jrcxz/loop, which the kernel does not emulate

    private static bool LastOpcodeIs(ReadOnlySpan<byte> bytes, byte opcode) => bytes[^1] == opcode;

    private static IEnumerable<byte> PrefixBytes(ReadOnlySpan<byte> bytes)
    {
        var list = new List<byte>();
        foreach (byte b in bytes)
        {
            if (b is 0x66 or 0x67 or 0xf2 or 0xf3 or 0x2e or 0x3e or 0x26 or 0x36 or 0x64 or 0x65 or 0xf0 || (b >= 0x40 && b <= 0x4f))
                list.Add(b);
            else break;
        }
        return list;
    }

    /// <summary>Null when the probe may move past <paramref name="instruction"/>; else what it does that forbids it.</summary>
    private static string? WhyNotSkippable(in Instruction instruction, InstructionInfoFactory infoFactory, HashSet<Register> kept)
    {
        if (instruction.FlowControl != FlowControl.Next)
            return instruction.Mnemonic == Mnemonic.Syscall ? "enters the kernel" : "branches away from the entry path";
        if (instruction.HasLockPrefix) return "writes memory";
        InstructionInfo info = infoFactory.GetInfo(instruction);
        foreach (UsedMemory memory in info.GetUsedMemory())
        {
            if (memory.Access is not (OpAccess.Read or OpAccess.CondRead or OpAccess.NoMemAccess))
                return "writes memory";
        }
        foreach (UsedRegister used in info.GetUsedRegisters())
        {
            if (used.Access is OpAccess.Read or OpAccess.CondRead or OpAccess.None or OpAccess.NoMemAccess) continue;
            Register full = used.Register.GetFullRegister();
            if (kept.Contains(full))
                return full == Register.RSP ? "changes rsp" : $"changes the argument register {full.ToString().ToLowerInvariant()}";
        }
        return null;
    }

    /// <summary>"rdi, rsp" or "rdi, rsi, rdx, rsp": what the reasons say was kept.</summary>
    private static string KeptText(HashSet<Register> kept)
    {
        var names = new List<string>();
        foreach (Register register in ArgumentRegisters) if (kept.Contains(register)) names.Add(register.ToString().ToLowerInvariant());
        names.Add("rsp");
        return string.Join(", ", names);
    }

    private static string Format(in Instruction instruction)
    {
        var formatter = new GasFormatter();
        formatter.Options.GasShowMnemonicSizeSuffix = false;
        formatter.Options.UppercaseHex = false;
        formatter.Options.BranchLeadingZeros = false;
        formatter.Options.RipRelativeAddresses = true;
        var output = new StringOutput();
        formatter.Format(instruction, output);
        return output.ToStringAndReset();
    }
}
