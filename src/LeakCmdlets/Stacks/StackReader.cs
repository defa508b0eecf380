using System;
using LeakTools.Bpf;
using LeakTools.Model;

namespace LeakTools.Stacks;

/// <summary>
/// Reads the stack of one allocation or streamed call from what the BPF side kept: a stack in the "stacks" map
/// (capture_user_stack in native/memleak.bpf.c stores the direct caller followed by the callers its unwind-table walk found,
/// capture_kernel_stack the kernel's unwind innermost first) and, in every case, the direct caller. A stack that
/// was not kept (stack map full, capture error, stacks switched off) leaves the caller alone.
/// </summary>
public sealed unsafe class StackReader
{
    private readonly BpfObject _bpf;
    private readonly bool _enabled;
    private readonly bool _kernel;
    private readonly Action _throwIfClosed;
    private BpfHashMap<ulong, MemleakAbi.Stack>? _stacks;

    /// <param name="bpf">The loaded memleak object.</param>
    /// <param name="enabled">False when no stack map was filled (CountOnly, stacks not captured): every stack is the caller alone.</param>
    /// <param name="kernel">The stacks are the kernel's (kernel mode), not a process's.</param>
    /// <param name="throwIfClosed">Throws once the session that owns <paramref name="bpf"/> is disposed (its map fds are closed then).</param>
    internal StackReader(BpfObject bpf, bool enabled, bool kernel, Action throwIfClosed)
    {
        _bpf = bpf;
        _enabled = enabled;
        _kernel = kernel;
        _throwIfClosed = throwIfClosed;
    }

    /// <summary>The stack stored under <paramref name="stackKey"/> (0: none), or <paramref name="caller"/> alone when none was kept.</summary>
    /// <param name="caller">The allocator call's return address (user mode) or call site (kernel mode), 0 when unknown.</param>
    public CapturedStack Read(ulong stackKey, ulong caller)
    {
        _throwIfClosed();
        MemleakAbi.Stack stored;
        if (stackKey == 0 || !_enabled || !Stacks().TryLookup(stackKey, out stored)) return Build(caller, default, _kernel);
        return Build(caller, new ReadOnlySpan<ulong>(stored.Frames, (int)Math.Min(stored.Depth, (uint)MemleakAbi.MaxStackDepth)), _kernel, stored.End);
    }

    private BpfHashMap<ulong, MemleakAbi.Stack> Stacks() => _stacks ??= _bpf.HashMap<ulong, MemleakAbi.Stack>("stacks");

    /// <param name="caller">The allocator call's return address (user mode) or call site (kernel mode), 0 when unknown.</param>
    /// <param name="storedFrames">The stack as stored (its <c>depth</c> frames), empty when none was kept.</param>
    /// <param name="kernel">The stored frames are the kernel's unwind.</param>
    /// <param name="end">The stored stack's end field: enum memleak_stack_end | enum memleak_unwinder &lt;&lt; 8 (0 for kernel stacks).</param>
    /// <returns>The stored frames as they are (a stored user stack starts with the caller already), or the caller alone when no stack was kept.</returns>
    public static CapturedStack Build(ulong caller, ReadOnlySpan<ulong> storedFrames, bool kernel, uint end = 0)
    {
        if (storedFrames.IsEmpty) return new CapturedStack(caller != 0 ? new[] { caller } : Array.Empty<ulong>(), StackSource.CallerOnly);
        if (kernel) return new CapturedStack(storedFrames.ToArray(), StackSource.Kernel);
        uint reason = end & 0xff;
        var stackEnd = reason <= MemleakAbi.StackEndBadFrame ? (StackEnd)reason : StackEnd.None;
        var source = (end >> 8) == UnwinderMixed ? StackSource.UnwindTablesAndFramePointer : StackSource.UnwindTables;
        return new CapturedStack(storedFrames.ToArray(), source, stackEnd);
    }

    private const uint UnwinderMixed = 2;   // MEMLEAK_UNWINDER_MIXED
}
