namespace LeakTools.Tracing;

/// <summary>The traced allocator functions: the rows of MEMLEAK_ALLOCATOR_FUNCTIONS in native/memleak.h, in order (AllocatorProbe.All describes each).</summary>
public enum AllocatorFunction
{
    Malloc, Calloc, Realloc, ReallocArray, Free, PosixMemalign, AlignedAlloc, Memalign, Valloc, Pvalloc,
    Mmap, Munmap, Mremap,
    Kmalloc, Kfree, KmemCacheAlloc, KmemCacheFree, PageAlloc, PageFree, PercpuAlloc, PercpuFree,
    // The allocator families: C++ operator new/delete, jemalloc, tcmalloc, mimalloc.
    OperatorNew, OperatorNewArray, OperatorNewNothrow, OperatorNewArrayNothrow, OperatorNewAligned,
    OperatorNewArrayAligned, OperatorNewAlignedNothrow, OperatorNewArrayAlignedNothrow, OperatorDelete,
    OperatorDeleteArray, OperatorDeleteSized, OperatorDeleteArraySized, OperatorDeleteNothrow,
    OperatorDeleteArrayNothrow, OperatorDeleteAligned, OperatorDeleteArrayAligned, OperatorDeleteSizedAligned,
    OperatorDeleteArraySizedAligned, OperatorDeleteAlignedNothrow, OperatorDeleteArrayAlignedNothrow,
    Mallocx, Rallocx, Xallocx, Sdallocx, Dallocx,
    TcMalloc, TcMallocSkipNewHandler, TcCalloc, TcRealloc, TcMemalign, TcPosixMemalign, TcValloc, TcPvalloc, TcNew,
    TcNewarray, TcNewNothrow, TcNewarrayNothrow, TcNewAligned, TcNewarrayAligned, TcNewAlignedNothrow,
    TcNewarrayAlignedNothrow, TcFree, TcFreeSized, TcCfree, TcDelete, TcDeletearray, TcDeleteSized,
    TcDeletearraySized, TcDeleteNothrow, TcDeletearrayNothrow, TcDeleteAligned, TcDeletearrayAligned,
    TcDeleteSizedAligned, TcDeletearraySizedAligned, TcDeleteAlignedNothrow, TcDeletearrayAlignedNothrow,
    MiMalloc, MiZalloc, MiMallocSmall, MiZallocSmall, MiNew, MiNewNothrow, MiValloc, MiPvalloc, MiMallocAligned,
    MiZallocAligned, MiNewAligned, MiNewAlignedNothrow, MiCalloc, MiMallocn, MiNewN, MiCallocAligned, MiMemalign,
    MiAlignedAlloc, MiPosixMemalign, MiRealloc, MiRezalloc, MiReallocAligned, MiRezallocAligned, MiReallocn,
    MiRecalloc, MiFree, MiCfree, MiFreeSize, MiFreeAligned, MiFreeSizeAligned,
}
