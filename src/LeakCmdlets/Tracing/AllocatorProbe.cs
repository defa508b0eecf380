using System;
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
        Uprobe(AllocatorFunction.Munmap, "munmap", AllocatorSemantics.Unmaps, "addr, length", returnProbe: false),
        Uprobe(AllocatorFunction.Mremap, "mremap", AllocatorSemantics.Remaps, "old_address, old_size, new_size", returnProbe: true),
        Tracepoint(AllocatorFunction.Kmalloc, "kmalloc", AllocatorSemantics.Allocates, "call_site, ptr, bytes_alloc"),
        Tracepoint(AllocatorFunction.Kfree, "kfree", AllocatorSemantics.Frees, "call_site, ptr"),
        Tracepoint(AllocatorFunction.KmemCacheAlloc, "kmem_cache_alloc", AllocatorSemantics.Allocates, "call_site, ptr, s->size"),
        Tracepoint(AllocatorFunction.KmemCacheFree, "kmem_cache_free", AllocatorSemantics.Frees, "call_site, ptr"),
        Tracepoint(AllocatorFunction.PageAlloc, "mm_page_alloc", AllocatorSemantics.Allocates, "page, order"),
        Tracepoint(AllocatorFunction.PageFree, "mm_page_free", AllocatorSemantics.Frees, "page"),
        Tracepoint(AllocatorFunction.PercpuAlloc, "percpu_alloc_percpu", AllocatorSemantics.Allocates, "call_site, ptr, bytes_alloc", displayName: "percpu_alloc"),
        Tracepoint(AllocatorFunction.PercpuFree, "percpu_free_percpu", AllocatorSemantics.Frees, "ptr", displayName: "percpu_free"),
        // The allocator families: C++ operator new/delete (named as C++ writes them), jemalloc, tcmalloc, mimalloc.
        Uprobe(AllocatorFunction.OperatorNew, "_Znwm", AllocatorSemantics.Allocates, "size", returnProbe: true, displayName: "operator new"),
        Uprobe(AllocatorFunction.OperatorNewArray, "_Znam", AllocatorSemantics.Allocates, "size", returnProbe: true, displayName: "operator new[]"),
        Uprobe(AllocatorFunction.OperatorNewNothrow, "_ZnwmRKSt9nothrow_t", AllocatorSemantics.Allocates, "size", returnProbe: true, displayName: "operator new (nothrow)"),
        Uprobe(AllocatorFunction.OperatorNewArrayNothrow, "_ZnamRKSt9nothrow_t", AllocatorSemantics.Allocates, "size", returnProbe: true, displayName: "operator new[] (nothrow)"),
        Uprobe(AllocatorFunction.OperatorNewAligned, "_ZnwmSt11align_val_t", AllocatorSemantics.Allocates, "size", returnProbe: true, displayName: "operator new (aligned)"),
        Uprobe(AllocatorFunction.OperatorNewArrayAligned, "_ZnamSt11align_val_t", AllocatorSemantics.Allocates, "size", returnProbe: true, displayName: "operator new[] (aligned)"),
        Uprobe(AllocatorFunction.OperatorNewAlignedNothrow, "_ZnwmSt11align_val_tRKSt9nothrow_t", AllocatorSemantics.Allocates, "size", returnProbe: true, displayName: "operator new (aligned, nothrow)"),
        Uprobe(AllocatorFunction.OperatorNewArrayAlignedNothrow, "_ZnamSt11align_val_tRKSt9nothrow_t", AllocatorSemantics.Allocates, "size", returnProbe: true, displayName: "operator new[] (aligned, nothrow)"),
        Uprobe(AllocatorFunction.OperatorDelete, "_ZdlPv", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete"),
        Uprobe(AllocatorFunction.OperatorDeleteArray, "_ZdaPv", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete[]"),
        Uprobe(AllocatorFunction.OperatorDeleteSized, "_ZdlPvm", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete (sized)"),
        Uprobe(AllocatorFunction.OperatorDeleteArraySized, "_ZdaPvm", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete[] (sized)"),
        Uprobe(AllocatorFunction.OperatorDeleteNothrow, "_ZdlPvRKSt9nothrow_t", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete (nothrow)"),
        Uprobe(AllocatorFunction.OperatorDeleteArrayNothrow, "_ZdaPvRKSt9nothrow_t", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete[] (nothrow)"),
        Uprobe(AllocatorFunction.OperatorDeleteAligned, "_ZdlPvSt11align_val_t", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete (aligned)"),
        Uprobe(AllocatorFunction.OperatorDeleteArrayAligned, "_ZdaPvSt11align_val_t", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete[] (aligned)"),
        Uprobe(AllocatorFunction.OperatorDeleteSizedAligned, "_ZdlPvmSt11align_val_t", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete (sized, aligned)"),
        Uprobe(AllocatorFunction.OperatorDeleteArraySizedAligned, "_ZdaPvmSt11align_val_t", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete[] (sized, aligned)"),
        Uprobe(AllocatorFunction.OperatorDeleteAlignedNothrow, "_ZdlPvSt11align_val_tRKSt9nothrow_t", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete (aligned, nothrow)"),
        Uprobe(AllocatorFunction.OperatorDeleteArrayAlignedNothrow, "_ZdaPvSt11align_val_tRKSt9nothrow_t", AllocatorSemantics.Frees, "ptr", returnProbe: false, displayName: "operator delete[] (aligned, nothrow)"),
        Uprobe(AllocatorFunction.Mallocx, "mallocx", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.Rallocx, "rallocx", AllocatorSemantics.Reallocates, "ptr, size", returnProbe: true),
        Uprobe(AllocatorFunction.Xallocx, "xallocx", AllocatorSemantics.Resizes, "ptr, size", returnProbe: true),
        Uprobe(AllocatorFunction.Sdallocx, "sdallocx", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.Dallocx, "dallocx", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcMalloc, "tc_malloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcMallocSkipNewHandler, "tc_malloc_skip_new_handler", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcCalloc, "tc_calloc", AllocatorSemantics.Allocates, "nmemb, size", returnProbe: true),
        Uprobe(AllocatorFunction.TcRealloc, "tc_realloc", AllocatorSemantics.Reallocates, "ptr, size", returnProbe: true),
        Uprobe(AllocatorFunction.TcMemalign, "tc_memalign", AllocatorSemantics.Allocates, "alignment, size", returnProbe: true),
        Uprobe(AllocatorFunction.TcPosixMemalign, "tc_posix_memalign", AllocatorSemantics.Allocates, "memptr, alignment, size", returnProbe: true),
        Uprobe(AllocatorFunction.TcValloc, "tc_valloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcPvalloc, "tc_pvalloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcNew, "tc_new", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcNewarray, "tc_newarray", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcNewNothrow, "tc_new_nothrow", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcNewarrayNothrow, "tc_newarray_nothrow", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcNewAligned, "tc_new_aligned", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcNewarrayAligned, "tc_newarray_aligned", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcNewAlignedNothrow, "tc_new_aligned_nothrow", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcNewarrayAlignedNothrow, "tc_newarray_aligned_nothrow", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.TcFree, "tc_free", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcFreeSized, "tc_free_sized", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcCfree, "tc_cfree", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDelete, "tc_delete", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeletearray, "tc_deletearray", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeleteSized, "tc_delete_sized", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeletearraySized, "tc_deletearray_sized", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeleteNothrow, "tc_delete_nothrow", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeletearrayNothrow, "tc_deletearray_nothrow", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeleteAligned, "tc_delete_aligned", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeletearrayAligned, "tc_deletearray_aligned", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeleteSizedAligned, "tc_delete_sized_aligned", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeletearraySizedAligned, "tc_deletearray_sized_aligned", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeleteAlignedNothrow, "tc_delete_aligned_nothrow", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.TcDeletearrayAlignedNothrow, "tc_deletearray_aligned_nothrow", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.MiMalloc, "mi_malloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiZalloc, "mi_zalloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiMallocSmall, "mi_malloc_small", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiZallocSmall, "mi_zalloc_small", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiNew, "mi_new", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiNewNothrow, "mi_new_nothrow", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiValloc, "mi_valloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiPvalloc, "mi_pvalloc", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiMallocAligned, "mi_malloc_aligned", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiZallocAligned, "mi_zalloc_aligned", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiNewAligned, "mi_new_aligned", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiNewAlignedNothrow, "mi_new_aligned_nothrow", AllocatorSemantics.Allocates, "size", returnProbe: true),
        Uprobe(AllocatorFunction.MiCalloc, "mi_calloc", AllocatorSemantics.Allocates, "count, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiMallocn, "mi_mallocn", AllocatorSemantics.Allocates, "count, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiNewN, "mi_new_n", AllocatorSemantics.Allocates, "count, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiCallocAligned, "mi_calloc_aligned", AllocatorSemantics.Allocates, "count, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiMemalign, "mi_memalign", AllocatorSemantics.Allocates, "alignment, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiAlignedAlloc, "mi_aligned_alloc", AllocatorSemantics.Allocates, "alignment, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiPosixMemalign, "mi_posix_memalign", AllocatorSemantics.Allocates, "memptr, alignment, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiRealloc, "mi_realloc", AllocatorSemantics.Reallocates, "ptr, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiRezalloc, "mi_rezalloc", AllocatorSemantics.Reallocates, "ptr, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiReallocAligned, "mi_realloc_aligned", AllocatorSemantics.Reallocates, "ptr, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiRezallocAligned, "mi_rezalloc_aligned", AllocatorSemantics.Reallocates, "ptr, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiReallocn, "mi_reallocn", AllocatorSemantics.Reallocates, "ptr, count, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiRecalloc, "mi_recalloc", AllocatorSemantics.Reallocates, "ptr, count, size", returnProbe: true),
        Uprobe(AllocatorFunction.MiFree, "mi_free", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.MiCfree, "mi_cfree", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.MiFreeSize, "mi_free_size", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.MiFreeAligned, "mi_free_aligned", AllocatorSemantics.Frees, "ptr", returnProbe: false),
        Uprobe(AllocatorFunction.MiFreeSizeAligned, "mi_free_size_aligned", AllocatorSemantics.Frees, "ptr", returnProbe: false),
    };

    /// <summary>A user-space function, probed by its symbol, and known by it.</summary>
    private static AllocatorProbe Uprobe(AllocatorFunction function, string symbol, AllocatorSemantics semantics, string arguments, bool returnProbe,
        string? displayName = null)
        => new(function, symbol, IsKernel: false, semantics, arguments, returnProbe, DisplayName: displayName ?? symbol);

    /// <summary>A kernel allocator, seen through its tracepoint (no return side).</summary>
    private static AllocatorProbe Tracepoint(AllocatorFunction function, string tracepoint, AllocatorSemantics semantics, string arguments, string? displayName = null)
        => new(function, tracepoint, IsKernel: true, semantics, arguments, HasReturnProbe: false, DisplayName: displayName ?? tracepoint);

    /// <summary>The row of <paramref name="function"/>.</summary>
    public static AllocatorProbe Of(AllocatorFunction function) => All[(int)function];

    /// <summary>True for the calls that give memory back (free, operator delete, munmap, kfree, ...).</summary>
    public static bool Releases(AllocatorFunction function)
        => (uint)function < (uint)All.Count && All[(int)function].Semantics is AllocatorSemantics.Frees or AllocatorSemantics.Unmaps;

    /// <summary>The name users know <paramref name="function"/> by (events, reports).</summary>
    public static string NameOf(AllocatorFunction function)
        => (uint)function < (uint)All.Count ? All[(int)function].DisplayName : function.ToString().ToLowerInvariant();

    /// <summary>
    /// The API the row belongs to: "C" (malloc … mremap), "kernel", "C++" (the operators), "jemalloc", "tcmalloc" or
    /// "mimalloc" (their own functions). Events join the names that share code within one family ("aligned_alloc/memalign"
    /// in glibc 2.36) and leave out another family's (tcmalloc's operator delete and tc_free are its free, named free).
    /// </summary>
    public string Family => Function switch
    {
        < AllocatorFunction.Kmalloc => "C",
        < AllocatorFunction.OperatorNew => "kernel",
        < AllocatorFunction.Mallocx => "C++",
        < AllocatorFunction.TcMalloc => "jemalloc",
        < AllocatorFunction.MiMalloc => "tcmalloc",
        _ => "mimalloc",
    };

    /// <summary>The uprobe-traced functions, in enum order.</summary>
    public static readonly IReadOnlyList<AllocatorProbe> UserSpace = All.Where(p => !p.IsKernel).ToArray();

    /// <summary>The symbols of the user-space functions: what an allocation's direct caller calls, unless a tail call came between.</summary>
    public static readonly IReadOnlySet<string> UserSpaceSymbols = new HashSet<string>(UserSpace.Select(p => p.Symbol), StringComparer.Ordinal);

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
