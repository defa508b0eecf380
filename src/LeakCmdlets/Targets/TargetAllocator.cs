using System.Collections.Generic;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// The allocator a traced process's calls bind to: <see cref="Library"/> gets the heap functions (the C API, operator
/// new/delete, the allocator's own extended API), and each mapping function (mmap, munmap, mremap) the first object
/// that defines it, listed in <see cref="MappingLibraries"/> when that is another object (libc, under jemalloc).
/// </summary>
/// <param name="MallocDefiners">The objects that define malloc, in the order the dynamic linker binds (file names).</param>
/// <param name="Name">What reports show: the allocator's soname (libjemalloc.so.2, libc.so.6), or the file name of an object without one (a static executable).</param>
internal sealed record TargetAllocator(TargetLibrary Library, IReadOnlyDictionary<AllocatorFunction, TargetLibrary> MappingLibraries,
    IReadOnlyList<string> MallocDefiners, string Name)
{
    /// <summary>The object whose <paramref name="probe"/> function the calls reach.</summary>
    public TargetLibrary LibraryOf(AllocatorProbe probe)
        => MappingLibraries.TryGetValue(probe.Function, out TargetLibrary? library) ? library : Library;
}
