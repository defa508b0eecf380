using LeakTools.Tracing;

namespace LeakTools.Analysis;

/// <summary>The names users know the allocator functions by: C's, and the kernel's tracepoints'.</summary>
public static class AllocatorNames
{
    public static string Of(AllocatorFunction function) => function switch
    {
        AllocatorFunction.Malloc => "malloc",
        AllocatorFunction.Calloc => "calloc",
        AllocatorFunction.Realloc => "realloc",
        AllocatorFunction.ReallocArray => "reallocarray",
        AllocatorFunction.Free => "free",
        AllocatorFunction.PosixMemalign => "posix_memalign",
        AllocatorFunction.AlignedAlloc => "aligned_alloc",
        AllocatorFunction.Memalign => "memalign",
        AllocatorFunction.Valloc => "valloc",
        AllocatorFunction.Pvalloc => "pvalloc",
        AllocatorFunction.Mmap => "mmap",
        AllocatorFunction.Munmap => "munmap",
        AllocatorFunction.Mremap => "mremap",
        AllocatorFunction.Kmalloc => "kmalloc",
        AllocatorFunction.Kfree => "kfree",
        AllocatorFunction.KmemCacheAlloc => "kmem_cache_alloc",
        AllocatorFunction.KmemCacheFree => "kmem_cache_free",
        AllocatorFunction.PageAlloc => "mm_page_alloc",
        AllocatorFunction.PageFree => "mm_page_free",
        AllocatorFunction.PercpuAlloc => "percpu_alloc",
        AllocatorFunction.PercpuFree => "percpu_free",
        _ => function.ToString().ToLowerInvariant(),
    };
}
