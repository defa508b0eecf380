using System;
using System.Collections.Generic;

namespace LeakTools.Tracing;

/// <summary>
/// THE place where a user stack is put together. Today: the direct caller (the return address read at [sp]
/// when the allocator was entered, always right) followed by the frame-pointer walk of the kernel's stack map
/// without its frame 0 (the allocator's own instruction pointer), with adjacent duplicates removed (newer
/// kernels add the [sp] return address themselves). Full .eh_frame unwinding replaces this method later.
/// </summary>
public static class StackCapture
{
    /// <param name="caller">Return address at [sp] at entry, 0 when unknown.</param>
    /// <param name="stackMapFrames">Frames from the stack map, innermost first, 0-terminated or exact.</param>
    public static ulong[] Merge(ulong caller, ReadOnlySpan<ulong> stackMapFrames)
    {
        var frames = new List<ulong>(stackMapFrames.Length + 1);
        if (caller != 0) frames.Add(caller);
        for (int i = 1; i < stackMapFrames.Length; i++)   // [0] is the probe site inside the allocator
        {
            ulong frame = stackMapFrames[i];
            if (frame == 0) break;
            if (frames.Count > 0 && frames[^1] == frame) continue;
            frames.Add(frame);
        }
        return frames.ToArray();
    }

    /// <summary>Kernel stacks: the stack map's frames as they are (tracepoints fire in the allocator's caller chain).</summary>
    public static ulong[] Kernel(ReadOnlySpan<ulong> stackMapFrames)
    {
        int n = stackMapFrames.IndexOf(0UL);
        return (n < 0 ? stackMapFrames : stackMapFrames[..n]).ToArray();
    }
}
