using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Iced.Intel;
using LeakTools.Model;
using LeakTools.Stacks;
using LeakTools.Symbols;
using LeakTools.Tests.Symbols;
using Xunit;

namespace LeakTools.Tests.Stacks;

/// <summary>
/// Tail-call frames and garbage rejection on real code: Samples/elf/libtailcall.so (built -O2 by make-samples.sh)
/// loaded into this process, its call sites' return addresses found by decoding its functions, and resolved
/// against this process's own maps.
/// </summary>
public sealed class TailCallResolverTests : IDisposable
{
    private static readonly IReadOnlySet<string> Allocators = new HashSet<string> { "malloc", "calloc", "realloc", "free" };

    private readonly SampleProcess.TemporaryDirectory _dir = SampleProcess.CreateTemporaryDirectory();
    private readonly string _library;
    private readonly IntPtr _handle;
    private readonly ProcessSymbolizer _symbols;
    private readonly TailCallResolver _resolver;

    public TailCallResolverTests()
    {
        _library = _dir.CopySample("libtailcall.so", $"libtailcall-{Guid.NewGuid():N}.so");
        _handle = NativeLibrary.Load(_library);
        _symbols = new ProcessSymbolizer(Environment.ProcessId);
        _resolver = new TailCallResolver(new ReturnSiteReader(_symbols), Allocators);
    }

    public void Dispose()
    {
        _symbols.Dispose();
        _dir.Dispose();
    }

    /// <summary>The run-time return address of the one call <paramref name="function"/> makes.</summary>
    private ulong ReturnAddressIn(string function)
    {
        ulong entry = (ulong)NativeLibrary.GetExport(_handle, function);
        using ElfImage image = ElfImage.Open(_library);
        Assert.True(image.TryFindFunction(function, out ElfFunction f));
        byte[] code = image.ReadAtVirtualAddress(f.Value, (int)f.Size);
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(code), f.Value);
        while (decoder.IP < f.Value + (ulong)code.Length)
        {
            decoder.Decode(out Instruction instruction);
            if (instruction.FlowControl is FlowControl.Call or FlowControl.IndirectCall) return entry + (instruction.NextIP - f.Value);
        }
        throw new InvalidOperationException($"{function} makes no call.");
    }

    private string LibraryName => Path.GetFileName(_library);

    [Theory]
    [InlineData("tc_call_local", "tc_local_tail")]          // call rel32 to a local function that jumps to calloc
    [InlineData("tc_call_plt", "tc_tail_calloc")]           // through the PLT stub, named by its JUMP_SLOT relocation
    [InlineData("tc_call_got", "tc_tail_calloc_got")]       // call *slot(%rip), named by its GLOB_DAT relocation
    public void AllocatorCallerWhoseCalleeJumpedToTheAllocatorGetsATailCallFrame(string caller, string tailCaller)
    {
        StackFrame? frame = _resolver.FindTailCaller(ReturnAddressIn(caller), innerReturnAddress: null);

        Assert.NotNull(frame);
        Assert.Equal(tailCaller, frame!.Symbol);
        Assert.Equal(0UL, frame.Offset);
        Assert.True(frame.IsTailCall);
        Assert.Equal(LibraryName, frame.Module);
        Assert.Equal($"{tailCaller} [tail call]", frame.ToString());
        Assert.Equal(_symbols.Symbolize(frame.Address).Symbol, tailCaller); // its address is the function's entry
    }

    [Fact]
    public void AllocatorCalledDirectlyGivesNoFrame()
    {
        Assert.Null(_resolver.FindTailCaller(ReturnAddressIn("tc_call_malloc"), innerReturnAddress: null));
    }

    [Fact]
    public void CallToAnotherFunctionThanTheInnerFrameIsATailCall()
    {
        // tc_call_outer calls tc_outer (through the PLT), which jumps to tc_inner: the inner frame is in tc_inner.
        StackFrame? frame = _resolver.FindTailCaller(ReturnAddressIn("tc_call_outer"), ReturnAddressIn("tc_inner"));
        Assert.Equal("tc_outer [tail call]", frame?.ToString());
    }

    [Fact]
    public void CallToTheInnerFunctionItselfIsNoTailCall()
    {
        Assert.Null(_resolver.FindTailCaller(ReturnAddressIn("tc_call_inner"), ReturnAddressIn("tc_inner")));
    }

    [Fact]
    public void IndirectCallIsUnknownNotAGuess()
    {
        Assert.Null(_resolver.FindTailCaller(ReturnAddressIn("tc_call_pointer"), ReturnAddressIn("tc_inner")));
        Assert.Null(_resolver.FindTailCaller(ReturnAddressIn("tc_call_pointer"), innerReturnAddress: null));
    }

    [Fact]
    public void InsertPutsTheTailCallerBetweenTheInnerFrameAndItsCaller()
    {
        ulong[] stack = { ReturnAddressIn("tc_inner"), ReturnAddressIn("tc_call_outer") };
        StackFrame[] frames = _resolver.Insert(stack, _symbols.SymbolizeStack(stack, firstIsReturnAddress: true));

        Assert.Equal(new[] { "tc_inner", "tc_outer [tail call]", "tc_call_outer" },
            Array.ConvertAll(frames, f => f.IsTailCall ? f.ToString() : f.Symbol));
        Assert.Equal(new[] { false, true, false }, Array.ConvertAll(frames, f => f.IsTailCall));
    }

    [Fact]
    public void StackWithoutTailCallsIsReturnedAsItIs()
    {
        ulong[] stack = { ReturnAddressIn("tc_inner"), ReturnAddressIn("tc_call_inner") };
        StackFrame[] named = _symbols.SymbolizeStack(stack, firstIsReturnAddress: true);
        Assert.Same(named, _resolver.Insert(stack, named));
    }

    [Fact]
    public void ValuesThatAreNoReturnAddressCutTheStack()
    {
        using var symbolizer = new UserStackSymbolizer(new ProcessSymbolizer(Environment.ProcessId), () => false, Allocators);
        ulong inner = ReturnAddressIn("tc_inner");
        ulong outer = ReturnAddressIn("tc_call_inner");
        IntPtr heap = Marshal.AllocHGlobal(64);
        try
        {
            foreach (ulong garbage in new[]
            {
                0x2faf080UL,                                           // a nanosleep constant: no mapping here
                0x616c69706d6f4364UL,                                  // ASCII: no canonical address
                (ulong)heap,                                           // a mapping that is not executable
                (ulong)NativeLibrary.GetExport(_handle, "tc_inner"),  // executable, but no call ends there
            })
            {
                CapturedStack cut = symbolizer.KeepReturnAddresses(new CapturedStack(new[] { inner, garbage, outer }, StackSource.UnwindTables), out _);
                Assert.Equal(new[] { inner }, cut.Frames);
                Assert.Equal(2, cut.RejectedFrames);
                Assert.Equal(StackSource.UnwindTables, cut.Source);
            }

            var real = new CapturedStack(new[] { inner, outer }, StackSource.UnwindTables);
            CapturedStack kept = symbolizer.KeepReturnAddresses(real, out bool final);
            Assert.Equal(real.Frames, kept.Frames);
            Assert.Equal(0, kept.RejectedFrames);
            Assert.True(final);
        }
        finally
        {
            Marshal.FreeHGlobal(heap);
        }
    }

    [Fact]
    public void SignalFrameAndTheInstructionItInterruptedAreKept()
    {
        using var symbolizer = new UserStackSymbolizer(new ProcessSymbolizer(Environment.ProcessId), () => false, Allocators);
        ulong trampoline = SignalReturnTrampolineInLibc();
        ulong handler = ReturnAddressIn("tc_inner");                          // the handler's allocation
        ulong interrupted = (ulong)NativeLibrary.GetExport(_handle, "tc_inner"); // a signal can hit any instruction
        ulong outer = ReturnAddressIn("tc_call_inner");
        ulong[] frames = { handler, trampoline, interrupted, outer };

        CapturedStack kept = symbolizer.KeepReturnAddresses(new CapturedStack(frames, StackSource.UnwindTables), out _);
        Assert.Equal(frames, kept.Frames);
        Assert.Equal(0, kept.RejectedFrames);

        // Without the signal frame before it, the same instruction is no return address.
        CapturedStack cut = symbolizer.KeepReturnAddresses(new CapturedStack(new[] { handler, interrupted, outer }, StackSource.UnwindTables), out _);
        Assert.Equal(new[] { handler }, cut.Frames);
        // And no tail call is read into the interrupted frame.
        Assert.DoesNotContain(symbolizer.Symbolize(frames, out _), f => f.IsTailCall);
    }

    /// <summary>glibc's __restore_rt (not exported): found by its bytes in libc's code, at its run-time address.</summary>
    private ulong SignalReturnTrampolineInLibc()
    {
        byte[] pattern = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
        using ElfImage libc = ElfImage.Open(ElfSamples.LibcPath);
        Assert.True(libc.TryFindFunction("sigaction", out ElfFunction sigaction));
        // __restore_rt sits next to sigaction in glibc's sigaction.c.
        ulong start = sigaction.Value - 0x1000;
        byte[] code = libc.ReadAtVirtualAddress(start, 0x2000);
        int at = code.AsSpan().IndexOf(pattern);
        Assert.True(at >= 0, "no rt_sigreturn trampoline near sigaction");
        SymbolizerModule module = System.Linq.Enumerable.First(_symbols.CodeModules(), m => m.FileName == "libc.so.6");
        Assert.True(_symbols.TryGetRuntimeAddress(module, start + (ulong)at, out ulong address));
        return address;
    }

    [Fact]
    public void UnmappedUserAddressMayStillBeAModuleLoadedLater()
    {
        using var symbolizer = new UserStackSymbolizer(new ProcessSymbolizer(Environment.ProcessId), () => false, Allocators);
        symbolizer.KeepReturnAddresses(new CapturedStack(new[] { ReturnAddressIn("tc_inner"), 0x2faf080UL }, StackSource.UnwindTables), out bool final);
        Assert.False(final); // a snapshot taken later may hold it: not cached
        symbolizer.KeepReturnAddresses(new CapturedStack(new[] { ReturnAddressIn("tc_inner"), 0x616c69706d6f4364UL }, StackSource.UnwindTables), out final);
        Assert.True(final); // no user address at all
    }
}
