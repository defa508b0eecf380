using System;

namespace LeakTools.Model;

/// <summary>One allocator call as it happened: what Watch-Allocation streams.</summary>
public sealed class AllocationEvent
{
    /// <summary>When the call returned (local time; the tracer's monotonic clock mapped to wall time).</summary>
    public DateTime Timestamp { get; set; }

    public int ProcessId { get; set; }

    public int ThreadId { get; set; }

    /// <summary>
    /// The allocator function as C names it: malloc, calloc, realloc, free, mmap, kmalloc, ...; names of one function
    /// joined by '/' ("aligned_alloc/memalign" in glibc 2.36), since the probe cannot tell which one the caller used.
    /// </summary>
    public string Function { get; set; } = string.Empty;

    /// <summary>The block allocated or freed.</summary>
    public ulong Address { get; set; }

    /// <summary>Bytes allocated; for a free, the size of the block freed when the watch saw its allocation, else 0.</summary>
    public ulong Size { get; set; }

    /// <summary>For realloc, reallocarray and mremap: the block this call replaced (freed or resized), else 0.</summary>
    public ulong PreviousAddress { get; set; }

    /// <summary>The calling stack, direct caller first; only filled with -IncludeStack.</summary>
    public StackFrame[]? Stack { get; set; }

    /// <summary>The stack as one line, "fibonacci+0x1c ← child+0x4a ← start_thread+0xf3"; only with -IncludeStack.</summary>
    public string? StackText { get; set; }

    /// <summary>The name (comm) of the process that made the call: with -Command or -IncludeChildren, a child's own.</summary>
    public string? ProcessName { get; set; }

    /// <summary>The allocator traced (the file name of the object whose malloc the process's calls bind to, e.g. libc.so.6); null in kernel mode.</summary>
    public string? Allocator { get; set; }

    /// <summary>1 when every call is streamed; N with -SampleRate N: this allocation stands for about N (one in N was sent).</summary>
    public uint SampleRate { get; set; } = 1;

    public override string ToString() => $"{Function}(0x{Address:x}, {Size})";
}
