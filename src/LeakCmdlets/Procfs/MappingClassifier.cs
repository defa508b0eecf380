using System;
using LeakTools.Model;

namespace LeakTools.Procfs;

/// <summary>Names the kind of a mapping from the pseudo-path the kernel prints for it.</summary>
public static class MappingClassifier
{
    /// <param name="bare">The path without its " (deleted)" marker (<see cref="MapsLine.PathWithoutDeleted"/>).</param>
    public static MappingKind Classify(ReadOnlySpan<char> bare)
    {
        if (bare.IsEmpty) return MappingKind.Anonymous;
        if (bare[0] == '[')
        {
            if (bare.SequenceEqual("[heap]")) return MappingKind.Heap;
            if (bare.StartsWith("[stack", StringComparison.Ordinal)) return MappingKind.Stack;
            if (bare.SequenceEqual("[vdso]")) return MappingKind.Vdso;
            if (bare.StartsWith("[vvar", StringComparison.Ordinal)) return MappingKind.Vvar;
            if (bare.SequenceEqual("[vsyscall]")) return MappingKind.Vsyscall;
            if (bare.StartsWith("[anon_shmem:", StringComparison.Ordinal)) return MappingKind.SharedMemory;
            if (bare.StartsWith("[anon:", StringComparison.Ordinal)) return MappingKind.Anonymous;
            return MappingKind.Other;
        }
        if (bare.StartsWith("/SYSV", StringComparison.Ordinal)
            || bare.StartsWith("/dev/shm/", StringComparison.Ordinal)
            || bare.StartsWith("/memfd:", StringComparison.Ordinal)
            || bare.SequenceEqual("/dev/zero")) // MAP_SHARED|MAP_ANONYMOUS shows as "/dev/zero (deleted)"
            return MappingKind.SharedMemory;
        if (bare.StartsWith("anon_inode:", StringComparison.Ordinal)) return MappingKind.AnonymousInode;
        return MappingKind.File;
    }
}
