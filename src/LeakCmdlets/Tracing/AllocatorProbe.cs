using System.Collections.Generic;
using System.Linq;

namespace LeakTools.Tracing;

/// <summary>
/// One traced allocator function: the C# row of MEMLEAK_ALLOCATOR_FUNCTIONS in native/memleak.h (MemleakAbiTests
/// compares the two tables). The probe planner, the tracer and the reports all read this one table.
/// </summary>
/// <param name="Symbol">User space: the symbol probed. Kernel: the tp_btf tracepoint.</param>
/// <param name="Arguments">The arguments the entry program reads (user: argument registers in order; kernel: tracepoint fields).</param>
/// <param name="HasReturnProbe">A return probe completes the call; frees are done at entry (that saves a trap).</param>
/// <param name="DisplayName">The name users know the function by: C's, or the kernel's for its tracepoints.</param>
internal sealed record AllocatorProbe(AllocatorFunction Function, string Symbol, bool IsKernel, AllocatorSemantics Semantics,
    string Arguments, bool HasReturnProbe, string DisplayName)
{
    /// <summary>Every row, in enum order (the row order is the enum's).</summary>
    public static readonly IReadOnlyList<AllocatorProbe> All = new AllocatorProbe[]
    {
        Uprobe(AllocatorFunction.Malloc, "malloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.Calloc, "calloc", AllocatorSemantics.Allocates, "nmemb, size", returnProbe: true),
        Uprobe(AllocatorFunction.Realloc, "realloc", AllocatorSemantics.Reallocates, "ptr, size", returnProbe: true),
        Uprobe(AllocatorFunction.ReallocArray, "reallocarray", AllocatorSemantics.Reallocates, "ptr, nmemb, size", returnProbe: true),
        Uprobe(AllocatorFunction.Free, "free", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.PosixMemalign, "posix_memalign", AllocatorSemantics.Allocates, "memptr, alignment, size", returnProbe: true),
        Uprobe(AllocatorFunction.AlignedAlloc, "aligned_alloc", AllocatorSemantics.Allocates, "alignment, size", returnProbe: true),
        Uprobe(AllocatorFunction.Memalign, "memalign", AllocatorSemantics.Allocates, "alignment, size", returnProbe: true),
        Uprobe(AllocatorFunction.Valloc, "valloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.Pvalloc, "pvalloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.Mmap, "mmap", AllocatorSemantics.Maps, "addr, length", returnProbe: true),
        Uprobe(AllocatorFunction.Munmap, "munmap", AllocatorSemantics.Unmaps, "addr", returnProbe: false),
        Uprobe(AllocatorFunction.Mremap, "mremap", AllocatorSemantics.Remaps, "old_address, old_size, new_size", returnProbe: true),
        Tracepoint(AllocatorFunction.Kmalloc, "kmalloc", AllocatorSemantics.Allocates, "call_site, ptr, bytes_alloc"),
        Tracepoint(AllocatorFunction.Kfree, "kfree", AllocatorSemantics.Frees, "call_site, ptr"),
        Tracepoint(AllocatorFunction.KmemCacheAlloc, "kmem_cache_alloc", AllocatorSemantics.Allocates, "call_site, ptr, s->size"),
        Tracepoint(AllocatorFunction.KmemCacheFree, "kmem_cache_free", AllocatorSemantics.Frees, "call_site, ptr"),
        Tracepoint(AllocatorFunction.PageAlloc, "mm_page_alloc", AllocatorSemantics.Allocates, "page, order"),
        Tracepoint(AllocatorFunction.PageFree, "mm_page_free", AllocatorSemantics.Frees, "page"),
        Tracepoint(AllocatorFunction.PercpuAlloc, "percpu_alloc_percpu", AllocatorSemantics.Allocates, "call_site, ptr, bytes_alloc", displayName: "percpu_alloc"),
        Tracepoint(AllocatorFunction.PercpuFree, "percpu_free_percpu", AllocatorSemantics.Frees, "ptr", displayName: "percpu_free"),
    };

    /// <summary>A user-space function, probed by its symbol, and known by it.</summary>
    private static AllocatorProbe Uprobe(AllocatorFunction function, string symbol, AllocatorSemantics semantics, string arguments, bool returnProbe)
        => new(function, symbol, IsKernel: false, semantics, arguments, returnProbe, DisplayName: symbol);

    /// <summary>A kernel allocator, seen through its tracepoint (no return side).</summary>
    private static AllocatorProbe Tracepoint(AllocatorFunction function, string tracepoint, AllocatorSemantics semantics, string arguments, string? displayName = null)
        => new(function, tracepoint, IsKernel: true, semantics, arguments, HasReturnProbe: false, DisplayName: displayName ?? tracepoint);

    /// <summary>The row of <paramref name="function"/>.</summary>
    public static AllocatorProbe Of(AllocatorFunction function) => All[(int)function];

    /// <summary>The name users know <paramref name="function"/> by (events, reports).</summary>
    public static string NameOf(AllocatorFunction function)
        => (uint)function < (uint)All.Count ? All[(int)function].DisplayName : function.ToString().ToLowerInvariant();

    /// <summary>The uprobe-traced functions, in enum order.</summary>
    public static readonly IReadOnlyList<AllocatorProbe> UserSpace = All.Where(p => !p.IsKernel).ToArray();

    /// <summary>Kernel mode: BTF-typed tracepoint programs (tp_btf, no tracefs needed) and their tracepoints.</summary>
    public static readonly IReadOnlyList<(AllocatorFunction Function, string Program, string Tracepoint)> Kernel
        = All.Where(p => p.IsKernel).Select(p => (p.Function, p.EntryProgram, p.Symbol)).ToArray();

    /// <summary>
    /// User space: how many argument registers the entry program reads (the n-th name of <see cref="Arguments"/> is
    /// the n-th register, rdi first). The probe site may move past instructions that write the registers after
    /// these (<see cref="ProbeSiteSelector"/>). Kernel: the tracepoint fields read.
    /// </summary>
    public int ArgumentCount => Arguments.Split(',', System.StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>memleak.bpf.c's program for the call (user space) or the tracepoint (kernel).</summary>
    public string EntryProgram => IsKernel ? $"memleak__{Symbol}" : $"memleak__{Symbol}_enter";

    /// <summary>memleak.bpf.c's return-probe program; null when the call is done at entry.</summary>
    public string? ReturnProgram => HasReturnProbe ? $"memleak__{Symbol}_return" : null;

    public const string CountEntryProgram = "allocount__entry";
    public const string CountReturnProgram = "allocount__return";
}
