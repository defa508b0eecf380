namespace LeakTools.Tracing;

/// <summary>The traced allocator functions: the rows of MEMLEAK_ALLOCATOR_FUNCTIONS in native/memleak.h, in order (AllocatorProbe.All describes each).</summary>
public enum AllocatorFunction
{
    Malloc, Calloc, Realloc, ReallocArray, Free, PosixMemalign, AlignedAlloc, Memalign, Valloc, Pvalloc,
    Mmap, Munmap, Mremap,
    Kmalloc, Kfree, KmemCacheAlloc, KmemCacheFree, PageAlloc, PageFree, PercpuAlloc, PercpuFree,
}
