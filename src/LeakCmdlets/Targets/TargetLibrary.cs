using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using LeakTools.Procfs;
using LeakTools.Symbols;
using Microsoft.Win32.SafeHandles;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// One object of the target (its allocator, or a candidate AllocatorResolver looks at) as the target sees it: found in /proc/PID/maps and opened through
/// /proc/PID/root (its own mount namespace, resolved inside that root) or /proc/PID/map_files (deleted or
/// replaced files) — never through the host's path, which may be another file or none.
/// </summary>
internal sealed record TargetLibrary(string MappedPath, string OpenPath, bool Mapped)
{
    /// <summary>
    /// The object named by -Library: a path or a file name (soname) among <paramref name="objects"/>, the objects the
    /// target maps (or, paused before its exec, will map) in resolution order. A library it does not map is an error
    /// that lists the mapped objects defining malloc, except a path inside the root of a command not started yet
    /// (it may dlopen the library later).
    /// </summary>
    public static TargetLibrary Resolve(int pid, string library, IReadOnlyList<TargetLibrary> objects, IReadOnlyList<string> mallocDefiners, bool launched)
    {
        TargetLibrary? match = library.Contains('/')
            ? objects.FirstOrDefault(o => o.MappedPath == library)
            : objects.FirstOrDefault(o =>
            {
                string name = Path.GetFileName(o.MappedPath);
                return name == library || name.StartsWith(library + ".", StringComparison.Ordinal)
                    || name.StartsWith("lib" + library + ".so", StringComparison.Ordinal) || name.StartsWith("lib" + library + "-", StringComparison.Ordinal);
            });
        if (match is not null) return match;

        if (launched && library.Contains('/'))
        {
            string viaRoot = ProcessDirectory.PathOf(pid, "root") + library;
            if (NamesOneRegularFile(viaRoot, expectedInode: null)) return new TargetLibrary(library, viaRoot, false);
        }
        string definers = mallocDefiners.Count == 0 ? "none" : string.Join(", ", mallocDefiners);
        throw new TracerException(
            $"Process {pid} does not map the library '{library}'. The objects it maps that define malloc, in the order the dynamic linker binds: {definers}.",
            ErrorIds.LibraryNotFound, ErrorCategory.ObjectNotFound, library,
            "Leave out -Library to trace the allocator the process uses, or give one of the objects above (a path as the process sees it, or its file name; see Get-ProcessMemoryMap).");
    }

    /// <summary>A mapped file, opened through the target's root when that is the mapped file, else through map_files.</summary>
    public static TargetLibrary FromMapping(int pid, SymbolizerMapping m)
    {
        string viaRoot = ProcessDirectory.PathOf(pid, "root") + m.Path;
        // The mapped file through the target's root: a stable path (map_files needs CAP_SYS_ADMIN, and its entry
        // goes with the mapping). Otherwise (deleted, replaced, a symlink aimed elsewhere) the mapping itself.
        if (!m.Deleted && NamesOneRegularFile(viaRoot, m.Inode))
            return new TargetLibrary(m.Path, viaRoot, true);
        return new TargetLibrary(m.Path, ProcessDirectory.PathOf(pid, "map_files") + "/" + m.Range, true);
    }

    /// <summary>A file the target does not map yet (a command paused before its exec), opened inside its root; null when there is none.</summary>
    public static TargetLibrary? FromUnmappedPath(int pid, string path)
    {
        string viaRoot = ProcessDirectory.PathOf(pid, "root") + path;
        return NamesOneRegularFile(viaRoot, expectedInode: null) ? new TargetLibrary(path, viaRoot, false) : null;
    }

    /// <summary>The error for a library whose file cannot be read or is no valid ELF file (the file comes from the target's root).</summary>
    public TracerException Unreadable(Exception e) => e is InvalidDataException
        ? new TracerException($"The allocator library '{MappedPath}' ({OpenPath}) is not a valid ELF file: {e.Message}",
            ErrorIds.LibraryUnreadable, ErrorCategory.InvalidData, MappedPath,
            "The file the target maps is corrupt or truncated (check it with readelf -h -S): reinstall it in the target, or give -Library another allocator library.", e)
        : new TracerException($"Cannot read the allocator library '{MappedPath}' ({OpenPath}): {e.Message}",
            ErrorIds.LibraryUnreadable, ErrorCategory.ReadError, MappedPath,
            $"Give -Library as a readable ELF shared object or executable that the target maps: a regular file of at most {TargetFileOpener.MaxElfFileBytes >> 20} MiB.", e);

    /// <summary>
    /// True when <paramref name="viaRoot"/> (/proc/PID/root/…) is a regular file, the same one whether resolved inside
    /// the target's root, as we read it, or by the kernel's plain lookup, as the probes attach to it (that lookup
    /// resolves an absolute symlink against our root, so a container's symlink could aim it at a host file).
    /// </summary>
    private static bool NamesOneRegularFile(string viaRoot, ulong? expectedInode)
    {
        try
        {
            using SafeFileHandle file = TargetFileOpener.Open(viaRoot, TargetFileOpener.MaxElfFileBytes);
            ulong inode = TargetFileOpener.GetIdentity(file).Inode;
            return (expectedInode is null || inode == expectedInode)
                && FileIdentity.TryGetInode(viaRoot, out ulong attached) && attached == inode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The mappings with a path (files, also deleted ones and memfd); the same parser the symbolizer uses.</summary>
    public static SymbolizerMapping[] ReadFileMappings(int pid)
    {
        try { return SymbolizerMapsReader.Read(pid).Where(m => m.Path.StartsWith('/')).ToArray(); }
        catch (UnauthorizedAccessException e) when (ProcessDirectory.Exists(pid))
        {
            throw TargetProcessCheck.AccessDenied(pid, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TracerException($"Cannot read the memory map of process {pid}: {e.Message}", ErrorIds.TargetNotFound,
                ErrorCategory.ObjectNotFound, pid, "Check that the process is still running (Get-Process).", e);
        }
    }
}
