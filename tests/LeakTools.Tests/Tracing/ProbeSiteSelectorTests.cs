using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>
/// Entry bytes recorded from Debian 12's glibc 2.36 (objdump -d libc.so.6), from its jemalloc, tcmalloc and mimalloc
/// (Samples/prologues/allocators.tsv), and hand-made edge cases.
/// </summary>
public class ProbeSiteSelectorTests
{
    private static byte[] Hex(string hex) => hex.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(b => Convert.ToByte(b, 16)).ToArray();

    [Theory]
    // free: test %rdi,%rdi; je …; push %rbp — the test would be single-stepped, the je is emulated.
    [InlineData("48 85 ff 0f 84 bf 00 00 00 55 48 8d 77 f0 53", 3, "je")]
    // malloc: push %r12 at the entry is emulated already.
    [InlineData("41 54 55 53 48 89 fb 48 83 ec 10", 0, "push %r12")]
    // posix_memalign: cmpb $0x0,0x140201(%rip) only reads memory and sets flags; then push %r12.
    [InlineData("80 3d 01 02 14 00 00 41 54 49 89 d4 55", 7, "push %r12")]
    // mmap: mov %ecx,%r10d; test $0xfff,%r9d; jne — r10 is no argument register of the C ABI.
    [InlineData("41 89 ca 41 f7 c1 ff 0f 00 00 75 14 b8 09 00 00 00 0f 05", 10, "jne")]
    // endbr64 is single-stepped (measured) and harmless to skip.
    [InlineData("f3 0f 1e fa 55 48 89 e5", 4, "push %rbp")]
    public void GlibcEntries_MoveToTheFirstEmulatedInstruction(string bytes, int displacement, string chosen)
    {
        var choice = ProbeSiteSelector.Choose(Hex(bytes));
        Assert.Equal(displacement, choice.Displacement);
        Assert.True(choice.Emulated);
        Assert.StartsWith(chosen, choice.ChosenInstruction);
        Assert.Contains(displacement == 0 ? "entry instruction" : "first emulated instruction", choice.Reason);
    }

    [Theory]
    // reallocarray: mov %rsi,%rax; mul %rdx (writes rdx:rax) — an argument register changes first.
    [InlineData("48 89 f0 48 f7 e2 48 89 c6 70 05", "rdx")]
    // munmap: mov $0xb,%eax; syscall.
    [InlineData("b8 0b 00 00 00 0f 05 48 3d 01 f0 ff ff", "enters the kernel")]
    // mremap: sub $0x58,%rsp — [rsp] would no longer be the return address.
    [InlineData("48 83 ec 58 4c 89 44 24 40", "rsp")]
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
        Assert.StartsWith("entry (single-stepped)", choice.Reason);
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

    /// <summary>Rows of Samples/prologues/allocators.tsv: library, function, chosen offset, chosen mnemonic, entry bytes.</summary>
    public static IEnumerable<object[]> RecordedAllocatorPrologues()
        => File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Samples", "prologues", "allocators.tsv"))
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split('\t'))
            .Select(f => new object[] { f[0], f[1], Convert.ToInt32(f[2], 16), f[3], f[4] });

    [Theory]
    [MemberData(nameof(RecordedAllocatorPrologues))]
    public void RecordedAllocatorPrologues_ProbeAtTheExpectedSite(string library, string function, int displacement, string mnemonic, string bytes)
    {
        AllocatorProbe probe = AllocatorProbe.UserSpace.Single(p => p.Symbol == function);
        var choice = ProbeSiteSelector.Choose(Hex(bytes), argumentsRead: probe.ArgumentCount);
        Assert.True(displacement == choice.Displacement, $"{library} {function}: +0x{choice.Displacement:x} '{choice.ChosenInstruction}' ({choice.Reason})");
        Assert.Equal(mnemonic, choice.ChosenInstruction.Split(' ')[0]);
    }

    [Theory]
    // jemalloc's free: mov %rdi,%rax; mov …(%rip),%rdx; mov %rdi,%rcx; … cmp …,%rcx; jne. free reads rdi alone.
    [InlineData("libjemalloc.so.2", "free", "rdx", 0x30, "jne")]
    // tcmalloc's memalign: mov %rdi,%r8; cmp $0x2000,%rdi; ja. memalign reads rdi and rsi.
    [InlineData("libtcmalloc.so.4", "memalign", "r8", 0xa, "ja")]
    // tcmalloc's malloc: mov …(%rip),%rax; mov %rdi,%r8; test %rax,%rax; jne.
    [InlineData("libtcmalloc.so.4", "malloc", "r8", 0xd, "jne")]
    // mimalloc's free: mov %rdi,%rcx; test %rdi,%rdi; je.
    [InlineData("libmimalloc.so.2", "free", "rcx", 0x6, "je")]
    public void ArgumentRegistersTheFunctionDoesNotRead_MayChangeBeforeTheSite(string library, string function, string register, int displacement, string mnemonic)
    {
        byte[] code = Hex((string)RecordedAllocatorPrologues().Single(r => (string)r[0] == library && (string)r[1] == function)[4]);

        var allSix = ProbeSiteSelector.Choose(code);
        Assert.Equal(0, allSix.Displacement);
        Assert.Contains($"changes the argument register {register}", allSix.Reason);

        var choice = ProbeSiteSelector.Choose(code, argumentsRead: AllocatorProbe.UserSpace.Single(p => p.Symbol == function).ArgumentCount);
        Assert.Equal(displacement, choice.Displacement);
        Assert.StartsWith(mnemonic, choice.ChosenInstruction);
        Assert.True(choice.Emulated);
        Assert.Equal(0u, choice.ArgumentMoves);
    }

    [Theory]
    // malloc: mov …(%rip),%rax; mov %rdi,%rsi; mov %fs:(%rax),%rdi; cmp $0x400,%rsi; ja — the size is in rsi (2).
    [InlineData("malloc", 0x15, "ja", 0x2u, "rdi (now in rsi)")]
    // calloc: mov …(%rip),%rdx; mov %rdi,%rax; mov %fs:(%rdx),%rdi; cmp $1,%rax; je — nmemb is in rax (7), size in rsi.
    [InlineData("calloc", 0x12, "je", 0x7u, "rdi (now in rax), rsi,")]
    // realloc: mov …(%rip),%rax; mov %rsi,%rdx; mov %rdi,%rsi; mov %fs:(%rax),%rax; mov %rax,%rdi; jmp — ptr in rsi, size in rdx (3).
    [InlineData("realloc", 0x14, "jmp", 0x32u, "rdi (now in rsi), rsi (now in rdx)")]
    public void AnArgumentCopiedToAnotherRegister_IsReadThere(string function, int displacement, string mnemonic, uint moves, string kept)
    {
        byte[] code = Hex((string)RecordedAllocatorPrologues().Single(r => (string)r[0] == "libmimalloc.so.2" && (string)r[1] == function)[4]);
        var choice = ProbeSiteSelector.Choose(code, argumentsRead: AllocatorProbe.UserSpace.Single(p => p.Symbol == function).ArgumentCount);
        Assert.Equal(displacement, choice.Displacement);
        Assert.StartsWith(mnemonic, choice.ChosenInstruction);
        Assert.True(choice.Emulated);
        Assert.Equal(moves, choice.ArgumentMoves);
        Assert.Contains(kept, choice.Reason);
    }

    [Fact]
    public void MovedArguments_AreEncodedAsTheBpfSideReadsThem()
    {
        // site_arg in memleak.bpf.c: 4 bits per argument, 1 + the register's index; rdi … r9 first, in ABI order.
        Assert.Equal(ProbeSiteSelector.ArgumentRegisters, ProbeSiteSelector.MovableRegisters.Take(6));
        Assert.Equal(15, ProbeSiteSelector.MovableRegisters.Count);
        Assert.DoesNotContain(Iced.Intel.Register.RSP, ProbeSiteSelector.MovableRegisters);
        // mov %rdi,%r15; mov %rsi,%rbx; xor %edi,%edi; xor %esi,%esi; push %rbp
        var choice = ProbeSiteSelector.Choose(Hex("49 89 ff 48 89 f3 31 ff 31 f6 55"), argumentsRead: 2);
        Assert.Equal(0xa, choice.Displacement);
        Assert.Equal(15u | 8u << 4, choice.ArgumentMoves);
    }

    [Theory]
    // Reading rdi: mov %rdi,%rsi; xor %rsi,%rsi; xor %rdi,%rdi — both copies gone.
    [InlineData("48 89 fe 48 31 f6 48 31 ff 55", 1, "rdi")]
    // mov %edi,%esi copies 32 bits only: no copy of the argument; then xor %rdi,%rdi.
    [InlineData("89 fe 48 31 ff 55", 1, "rdi")]
    // Reading rdi and rsi: mov %rdi,%rsi overwrites the second argument, whatever it copies.
    [InlineData("48 89 fe 55", 2, "rsi")]
    // mov %rsi,%rax; mul %rdx: the size (rdx) is lost with no copy (glibc's reallocarray, reading three).
    [InlineData("48 89 f0 48 f7 e2 48 89 c6 70 05", 3, "rdx")]
    public void AnArgumentWithNoCopyLeft_StillStopsTheMove(string bytes, int argumentsRead, string register)
    {
        var choice = ProbeSiteSelector.Choose(Hex(bytes), argumentsRead: argumentsRead);
        Assert.Equal(0, choice.Displacement);
        Assert.Equal(0u, choice.ArgumentMoves);
        Assert.Contains($"changes the argument register {register}", choice.Reason);
    }

    /// <summary>
    /// The arguments column is what the site must keep: each user-space entry program in memleak.bpf.c declares
    /// exactly the arguments of its row, so a program that reads one more register cannot go unnoticed.
    /// </summary>
    [Fact]
    public void EveryEntryProgram_DeclaresTheArgumentsOfItsRow()
    {
        string source = NativeFile("memleak.bpf.c");
        foreach (AllocatorProbe probe in AllocatorProbe.UserSpace)
        {
            int declared;
            Match program = Regex.Match(source, $@"BPF_KPROBE\({probe.EntryProgram}((?:,[^,)]+)*)\)");
            if (program.Success)
            {
                declared = program.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Length;
            }
            else
            {
                // The allocator families' programs come from ALLOC_PROBES(name, ID, size, arg) and FREE_PROBE(name, ID):
                // they read the registers their PT_REGS_PARMn name (FREE_PROBE: the first).
                string name = probe.EntryProgram["memleak__".Length..^"_enter".Length];
                Match generated = Regex.Match(source, $@"^(ALLOC_PROBES|FREE_PROBE)\({Regex.Escape(name)},[^\n]*\)$", RegexOptions.Multiline);
                Assert.True(generated.Success, $"{probe.EntryProgram} not found");
                declared = generated.Groups[1].Value == "FREE_PROBE" ? 1
                    : Regex.Matches(generated.Value, @"PT_REGS_PARM(\d)").Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max();
            }
            Assert.True(declared == probe.ArgumentCount, $"{probe.EntryProgram} declares {declared} arguments, its row '{probe.Arguments}' {probe.ArgumentCount}");
        }
    }

    private static string NativeFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "native", name);
            if (File.Exists(path)) return File.ReadAllText(path);
        }
        throw new FileNotFoundException($"native/{name} not found above the test directory.");
    }
}
