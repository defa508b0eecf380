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
/// <item>keeps every argument the function's entry program reads (the first <c>argumentsRead</c> of rdi, rsi, rdx,
/// rcx, r8, r9) in some register: the other argument registers may change (jemalloc's free starts with
/// <c>mov %rdi,%rax</c> and writes rdx and rcx before its first branch, and free reads rdi alone), and an argument
/// may move: after a 64-bit register copy (<c>mov %rdi,%rsi</c>) the copy holds it too, so the original may be
/// overwritten. The site then says where each argument is (<see cref="ProbeSiteChoice.ArgumentMoves"/>, passed to
/// the BPF program in the attach cookie: mimalloc's malloc moves its size to rsi and loads its heap into rdi);</item>
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

    /// <summary>
    /// The registers an argument may be found in at a probe site, in the order of memleak.bpf.c's <c>site_arg</c>:
    /// argument n moved to <c>MovableRegisters[i]</c> is encoded as i + 1 in bits 4n..4n+3 of
    /// <see cref="ProbeSiteChoice.ArgumentMoves"/> (0: still in its own register).
    /// </summary>
    public static readonly IReadOnlyList<Register> MovableRegisters = new[]
    {
        Register.RDI, Register.RSI, Register.RDX, Register.RCX, Register.R8, Register.R9, Register.RAX, Register.RBX,
        Register.RBP, Register.R10, Register.R11, Register.R12, Register.R13, Register.R14, Register.R15,
    };

    /// <summary>How many arguments a site can say it moved: 4 bits each in the upper half of the 64-bit cookie.</summary>
    public const int MaxMovedArguments = 8;

    /// <param name="code">Bytes from the function's entry (at least ~64, or the whole function).</param>
    /// <param name="entryAddress">The entry's virtual address (only used to print branch targets).</param>
    /// <param name="argumentsRead">
    /// How many argument registers the probe reads (<see cref="AllocatorProbe.ArgumentCount"/>); only those, rsp and
    /// memory must survive the instructions skipped. All six when unknown.
    /// </param>
    public static ProbeSiteChoice Choose(ReadOnlySpan<byte> code, ulong entryAddress = 0, int argumentsRead = 6)
    {
        // Where each argument read lives: its own register, and the registers it has been copied to since the entry.
        var homes = new List<List<Register>>();
        for (int i = 0; i < Math.Clamp(argumentsRead, 0, ArgumentRegisters.Count); i++) homes.Add(new List<Register> { ArgumentRegisters[i] });
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
                uint moves = ArgumentMovesOf(homes);
                string reason = i == 0
                    ? $"entry instruction '{text}' is emulated by the kernel"
                    : $"'{entryText}' would be single-stepped; +0x{displacement:x} '{text}' is the first emulated instruction and the ones before it keep {KeptText(homes)} and [rsp]"
                      + (moves == 0 ? "" : ", read where they are");
                return new ProbeSiteChoice(displacement, entryText, text, true, reason, moves);
            }

            string? why = WhyNotSkippable(instruction, infoFactory, homes);
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

    /// <summary>
    /// Null when the probe may move past <paramref name="instruction"/> (then <paramref name="homes"/> says where the
    /// arguments are after it); else what it does that forbids it.
    /// </summary>
    private static string? WhyNotSkippable(in Instruction instruction, InstructionInfoFactory infoFactory, List<List<Register>> homes)
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
        // mov %src,%dst of 64-bit registers: dst holds whatever src held.
        bool copy = instruction.Code is Code.Mov_r64_rm64 or Code.Mov_rm64_r64
            && instruction.Op0Kind == OpKind.Register && instruction.Op1Kind == OpKind.Register;
        if (copy && instruction.Op0Register == instruction.Op1Register) return null;
        var written = new List<Register>();
        foreach (UsedRegister used in info.GetUsedRegisters())
        {
            if (used.Access is OpAccess.Read or OpAccess.CondRead or OpAccess.None or OpAccess.NoMemAccess) continue;
            Register full = used.Register.GetFullRegister();
            if (full == Register.RSP) return "changes rsp";
            written.Add(full);
        }
        var copiedTo = new List<(List<Register> Home, Register Register)>();
        foreach (List<Register> home in homes)
        {
            if (copy && home.Contains(instruction.Op1Register) && !home.Contains(instruction.Op0Register)) copiedTo.Add((home, instruction.Op0Register));
        }
        foreach (Register full in written)
        {
            foreach (List<Register> home in homes)
            {
                if (!home.Remove(full)) continue;
                if (home.Count == 0 && !copiedTo.Exists(c => c.Home == home))
                    return $"changes the argument register {Name(full)}";
            }
        }
        foreach (var (home, register) in copiedTo)
        {
            if (IndexOf(MovableRegisters, register) < 0) return $"moves an argument to {Name(register)}, which the probe cannot read";
            home.Add(register);
        }
        return null;
    }

    /// <summary>Where the arguments are, as the cookie says it: 0 when each is still in its own register.</summary>
    private static uint ArgumentMovesOf(List<List<Register>> homes)
    {
        uint moves = 0;
        for (int n = 0; n < homes.Count && n < MaxMovedArguments; n++)
        {
            if (homes[n].Contains(ArgumentRegisters[n])) continue;
            moves |= (uint)(IndexOf(MovableRegisters, homes[n][0]) + 1) << (4 * n);
        }
        return moves;
    }

    private static int IndexOf(IReadOnlyList<Register> registers, Register register)
    {
        for (int i = 0; i < registers.Count; i++) if (registers[i] == register) return i;
        return -1;
    }

    /// <summary>"rdi, rsp" or "rdi (now in rsi), rsp": what the reasons say was kept, and where.</summary>
    private static string KeptText(List<List<Register>> homes)
    {
        var names = new List<string>();
        for (int n = 0; n < homes.Count; n++)
        {
            Register own = ArgumentRegisters[n];
            names.Add(homes[n].Contains(own) ? Name(own) : $"{Name(own)} (now in {Name(homes[n][0])})");
        }
        names.Add("rsp");
        return string.Join(", ", names);
    }

    private static string Name(Register register) => register.ToString().ToLowerInvariant();

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
