namespace LeakTools.Tracing;

/// <summary>What a call to an allocator function does to blocks; enum memleak_semantics in native/memleak.h.</summary>
public enum AllocatorSemantics
{
    /// <summary>Returns a new block, or fails (NULL, a non-zero posix_memalign).</summary>
    Allocates,
    /// <summary>Releases a block.</summary>
    Frees,
    /// <summary>Replaces the block its argument names (NULL: allocates; size 0: frees).</summary>
    Reallocates,
    /// <summary>Returns a new mapping, or MAP_FAILED.</summary>
    Maps,
    /// <summary>Releases a mapping.</summary>
    Unmaps,
    /// <summary>Replaces a mapping, or MAP_FAILED.</summary>
    Remaps,
    /// <summary>Resizes the block its argument names in place and returns the new size (jemalloc's xallocx).</summary>
    Resizes,
}
