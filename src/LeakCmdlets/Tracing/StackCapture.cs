using System;

namespace LeakTools.Tracing;

/// <summary>
/// Where a captured stack becomes the frames a report shows. Stacks are captured in one place on the BPF side
/// (capture_user_stack and capture_kernel_stack in native/memleak.bpf.c), which stores a user stack as the
/// direct caller (the allocator call's return address, always right) followed by the frame-pointer chain, and
/// a kernel stack innermost first. Full .eh_frame unwinding replaces the user walk later; this side stays as it is.
/// </summary>
public static class StackCapture
{
    /// <param name="caller">The allocator call's return address (user mode) or call site (kernel mode), 0 when unknown.</param>
    /// <param name="storedFrames">The stack as stored (its <c>depth</c> frames), empty when none was kept.</param>
    /// <returns>The stored frames, or the caller alone when the stack was not kept.</returns>
    public static ulong[] Frames(ulong caller, ReadOnlySpan<ulong> storedFrames)
    {
        if (!storedFrames.IsEmpty) return storedFrames.ToArray();
        return caller != 0 ? new[] { caller } : Array.Empty<ulong>();
    }
}
