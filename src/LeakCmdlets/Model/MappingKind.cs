namespace LeakTools.Model;

/// <summary>What backs a memory mapping, decided from its path as /proc/PID/maps prints it.</summary>
public enum MappingKind
{
    /// <summary>Private anonymous memory: malloc arenas, mmap(MAP_ANONYMOUS), thread stacks, "[anon:name]".</summary>
    Anonymous,
    /// <summary>"[heap]": the brk area.</summary>
    Heap,
    /// <summary>"[stack]" (and "[stack:TID]" on old kernels): the main thread's stack.</summary>
    Stack,
    /// <summary>A mapped file: executables, libraries, data files.</summary>
    File,
    /// <summary>Shared memory: System V segments (/SYSV...), /dev/shm, memfd, shared anonymous (/dev/zero), "[anon_shmem:name]".</summary>
    SharedMemory,
    /// <summary>"[vdso]".</summary>
    Vdso,
    /// <summary>"[vvar]" and "[vvar_vclock]".</summary>
    Vvar,
    /// <summary>"[vsyscall]".</summary>
    Vsyscall,
    /// <summary>"anon_inode:..." (perf buffers, BPF maps, DRM objects, io_uring rings).</summary>
    AnonymousInode,
    /// <summary>Any other bracketed pseudo-path the kernel prints, such as "[uprobes]".</summary>
    Other,
}
