using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using LeakTools.Procfs;
using LeakTools.Symbols;
using Microsoft.Win32.SafeHandles;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// The allocator library as the target process sees it: found in /proc/PID/maps and opened through
/// /proc/PID/root (its own mount namespace, resolved inside that root) or /proc/PID/map_files (deleted or
/// replaced files) — never through the host's path, which may be another file or none.
/// </summary>
internal sealed record TargetLibrary(string MappedPath, string OpenPath, bool Mapped)
{
    private static readonly Regex s_libc = new(@"^(libc\.so(\.\d+)*|libc-[\d.]+\.so|ld-musl-[^/]+\.so(\.\d+)*)$", RegexOptions.CultureInvariant);

    /// <param name="library">null for the target's libc; else a path or a file name (soname) as mapped by the target.</param>
    public static TargetLibrary Resolve(int pid, string? library)
    {
        SymbolizerMapping[] mappings = ReadFileMappings(pid);

        SymbolizerMapping? match = null;
        if (library is null)
        {
            match = mappings.Where(m => s_libc.IsMatch(Path.GetFileName(m.Path))).Cast<SymbolizerMapping?>().FirstOrDefault();
            if (match is null)
            {
                throw new TracerException(
                    $"Process {pid} maps no C library (is it statically linked?), so there is no malloc to probe.",
                    ErrorIds.AllocatorNotFound, ErrorCategory.ObjectNotFound, pid,
                    "Name the binary or library that contains the allocator with -Library (a path as the process sees it).");
            }
        }
        else if (library.Contains('/'))
        {
            match = mappings.Where(m => m.Path == library).Cast<SymbolizerMapping?>().FirstOrDefault();
        }
        else
        {
            match = mappings.Where(m =>
            {
                string name = Path.GetFileName(m.Path);
                return name == library || name.StartsWith(library + ".", StringComparison.Ordinal)
                    || name.StartsWith("lib" + library + ".so", StringComparison.Ordinal) || name.StartsWith("lib" + library + "-", StringComparison.Ordinal);
            }).Cast<SymbolizerMapping?>().FirstOrDefault();
        }

        if (match is { } m)
        {
            string viaRoot = ProcessDirectory.PathOf(pid, "root") + m.Path;
            // The mapped file through the target's root: a stable path (map_files needs CAP_SYS_ADMIN, and its entry
            // goes with the mapping). Otherwise (deleted, replaced, a symlink aimed elsewhere) the mapping itself.
            if (!m.Deleted && NamesOneRegularFile(viaRoot, m.Inode))
                return new TargetLibrary(m.Path, viaRoot, true);
            string viaMapFiles = ProcessDirectory.PathOf(pid, "map_files") + "/" + m.Range;
            return new TargetLibrary(m.Path, viaMapFiles, true);
        }

        // Not mapped (yet): a path inside the target's root still works, e.g. for a -Command target paused before exec.
        if (library is not null && library.Contains('/'))
        {
            string viaRoot = ProcessDirectory.PathOf(pid, "root") + library;
            if (NamesOneRegularFile(viaRoot, expectedInode: null)) return new TargetLibrary(library, viaRoot, false);
        }
        var candidates = mappings.Select(x => Path.GetFileName(x.Path)).Where(n => n.Contains(".so")).Distinct().Take(12);
        throw new TracerException(
            $"The library '{library}' is neither mapped by process {pid} nor a regular file inside its root. Mapped libraries: {string.Join(", ", candidates)}.",
            ErrorIds.LibraryNotFound, ErrorCategory.ObjectNotFound, library,
            "Give -Library as a path inside the target's file system or as the file name it maps (see Get-ProcessMemoryMap).");
    }

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
    private static SymbolizerMapping[] ReadFileMappings(int pid)
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
