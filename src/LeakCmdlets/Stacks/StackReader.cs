using System;

namespace LeakTools.Stacks;

/// <summary>
/// The frames a report shows for one allocation, from what the BPF side kept: a stack in the "stacks" map
/// (capture_user_stack in native/memleak.bpf.c stores the direct caller followed by the frame-pointer chain,
/// capture_kernel_stack the kernel's unwind innermost first) and, in every case, the direct caller. A stack that
/// was not kept (stack map full, capture error, stacks switched off) leaves the caller alone.
/// </summary>
public static class StackCapture
{
    /// <param name="caller">The allocator call's return address (user mode) or call site (kernel mode), 0 when unknown.</param>
    /// <param name="storedFrames">The stack as stored (its <c>depth</c> frames), empty when none was kept.</param>
    /// <returns>The stored frames as they are (a stored user stack starts with the caller already), or the caller alone when no stack was kept.</returns>
    public static ulong[] Frames(ulong caller, ReadOnlySpan<ulong> storedFrames)
    {
        if (!storedFrames.IsEmpty) return storedFrames.ToArray();
        return caller != 0 ? new[] { caller } : Array.Empty<ulong>();
    }
}
