using System.Collections.Generic;
using System.IO;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// The allocator a traced process's calls bind to: <see cref="Library"/> gets the heap functions (the C API, operator
/// new/delete, the allocator's own extended API), and each mapping function (mmap, munmap, mremap) the first object
/// that defines it, listed in <see cref="MappingLibraries"/> when that is another object (libc, under jemalloc).
/// </summary>
/// <param name="MallocDefiners">The objects that define malloc, in the order the dynamic linker binds (file names).</param>
internal sealed record TargetAllocator(TargetLibrary Library, IReadOnlyDictionary<AllocatorFunction, TargetLibrary> MappingLibraries,
    IReadOnlyList<string> MallocDefiners)
{
    /// <summary>The allocator's file name as the process maps it, e.g. libjemalloc.so.2 or libc.so.6: what reports show.</summary>
    public string Name => Path.GetFileName(Library.MappedPath);

    /// <summary>The object whose <paramref name="probe"/> function the calls reach.</summary>
    public TargetLibrary LibraryOf(AllocatorProbe probe)
        => MappingLibraries.TryGetValue(probe.Function, out TargetLibrary? library) ? library : Library;
}
