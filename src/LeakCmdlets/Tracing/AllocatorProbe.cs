using System.Collections.Generic;

namespace LeakTools.Tracing;

/// <summary>One traced user-space allocator function: its symbol and the memleak.bpf.c programs for it.</summary>
internal sealed record AllocatorProbe(AllocatorFunction Function, string Symbol, string EntryProgram, string? ReturnProgram)
{
    /// <summary>In enum order. Frees have no return probe: their work is done at entry (and that saves a trap).</summary>
    public static readonly IReadOnlyList<AllocatorProbe> UserSpace = new AllocatorProbe[]
    {
        new(AllocatorFunction.Malloc, "malloc", "memleak__malloc_enter", "memleak__malloc_return"),
        new(AllocatorFunction.Calloc, "calloc", "memleak__calloc_enter", "memleak__calloc_return"),
        new(AllocatorFunction.Realloc, "realloc", "memleak__realloc_enter", "memleak__realloc_return"),
        new(AllocatorFunction.ReallocArray, "reallocarray", "memleak__reallocarray_enter", "memleak__reallocarray_return"),
        new(AllocatorFunction.Free, "free", "memleak__free_enter", null),
        new(AllocatorFunction.PosixMemalign, "posix_memalign", "memleak__posix_memalign_enter", "memleak__posix_memalign_return"),
        new(AllocatorFunction.AlignedAlloc, "aligned_alloc", "memleak__aligned_alloc_enter", "memleak__aligned_alloc_return"),
        new(AllocatorFunction.Memalign, "memalign", "memleak__memalign_enter", "memleak__memalign_return"),
        new(AllocatorFunction.Valloc, "valloc", "memleak__valloc_enter", "memleak__valloc_return"),
        new(AllocatorFunction.Pvalloc, "pvalloc", "memleak__pvalloc_enter", "memleak__pvalloc_return"),
        new(AllocatorFunction.Mmap, "mmap", "memleak__mmap_enter", "memleak__mmap_return"),
        new(AllocatorFunction.Munmap, "munmap", "memleak__munmap_enter", null),
        new(AllocatorFunction.Mremap, "mremap", "memleak__mremap_enter", "memleak__mremap_return"),
    };

    /// <summary>Kernel mode: tracepoint programs and the tracefs event each needs.</summary>
    public static readonly IReadOnlyList<(AllocatorFunction Function, string Program, string Event)> Kernel = new[]
    {
        (AllocatorFunction.Kmalloc, "memleak__kmalloc", "kmem/kmalloc"),
        (AllocatorFunction.Kfree, "memleak__kfree", "kmem/kfree"),
        (AllocatorFunction.KmemCacheAlloc, "memleak__kmem_cache_alloc", "kmem/kmem_cache_alloc"),
        (AllocatorFunction.KmemCacheFree, "memleak__kmem_cache_free", "kmem/kmem_cache_free"),
        (AllocatorFunction.PageAlloc, "memleak__mm_page_alloc", "kmem/mm_page_alloc"),
        (AllocatorFunction.PageFree, "memleak__mm_page_free", "kmem/mm_page_free"),
        (AllocatorFunction.PercpuAlloc, "memleak__percpu_alloc_percpu", "percpu/percpu_alloc_percpu"),
        (AllocatorFunction.PercpuFree, "memleak__percpu_free_percpu", "percpu/percpu_free_percpu"),
    };

    public const string CountEntryProgram = "allocount__entry";
    public const string CountReturnProgram = "allocount__return";
}
