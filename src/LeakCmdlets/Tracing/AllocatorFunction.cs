namespace LeakTools.Tracing;

/// <summary>The traced allocator entry points; same order as enum memleak_function in native/memleak.h.</summary>
public enum AllocatorFunction
{
    Malloc, Calloc, Realloc, ReallocArray, Free, PosixMemalign, AlignedAlloc, Memalign, Valloc, Pvalloc,
    Mmap, Munmap, Mremap,
    Kmalloc, Kfree, KmemCacheAlloc, KmemCacheFree, PageAlloc, PageFree, PercpuAlloc, PercpuFree,
}
