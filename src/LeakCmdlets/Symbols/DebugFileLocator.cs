using System;
using System.Collections.Generic;
using System.IO;

namespace LeakTools.Symbols;

/// <summary>
/// Finds the separate debug file of a stripped binary the way gdb does: by build-id under
/// "&lt;debugdir&gt;/.build-id/", then by .gnu_debuglink next to the binary, in its ".debug/" subdirectory and
/// under "&lt;debugdir&gt;/&lt;binary's directory&gt;/". The debug directories are searched inside the target's root
/// first, then on the host; the places next to the binary only inside the target's root, where the binary is.
/// Files inside the target's root are opened as the target resolves them (<see cref="Procfs.TargetFileOpener"/>): a
/// container's symlink cannot aim a debug path at a host file, a FIFO or a device.
/// </summary>
internal static class DebugFileLocator
{
    /// <param name="binary">The opened module.</param>
    /// <param name="modulePath">The module's path as the target sees it.</param>
    /// <param name="targetRoot">"/proc/PID/root" (or any directory that is the target's "/"), or null to search the host only.</param>
    /// <param name="verbose">Told why a debug file that is there was not used (not a regular file, too large, corrupt).</param>
    public static ElfImage? Find(ElfImage binary, string modulePath, string? targetRoot, IEnumerable<string> debugDirectories, Action<string>? verbose = null)
    {
        foreach ((string? root, string path, bool byDebugLink) in Candidates(binary, modulePath, targetRoot, debugDirectories))
        {
            ElfImage? image = TryOpenMatching(root, path, binary, byDebugLink, verbose);
            if (image is not null) return image;
        }
        return null;
    }

    /// <summary>
    /// The places to look, in order: a path inside the target's root (Root set), or on the host (Root null);
    /// ByDebugLink when the place was found by the .gnu_debuglink name, so the file must have its CRC.
    /// </summary>
    internal static IEnumerable<(string? Root, string Path, bool ByDebugLink)> Candidates(ElfImage binary, string modulePath, string? targetRoot, IEnumerable<string> debugDirectories)
    {
        var roots = new List<string?>(2);
        if (!string.IsNullOrEmpty(targetRoot)) roots.Add(targetRoot);
        roots.Add(null);
        var dirs = new List<string>();
        foreach (string d in debugDirectories) dirs.Add(d.TrimEnd('/'));

        if (binary.BuildId is { Length: > 2 } id)
        {
            string relative = $"/.build-id/{id[..2]}/{id[2..]}.debug";
            foreach (string dir in dirs)
                foreach (string? root in roots)
                    yield return (root, dir + relative, false);
        }

        if (binary.DebugLink is { Length: > 0 } link && !link.Contains('/'))
        {
            string moduleDir = Path.GetDirectoryName(modulePath) ?? "/";
            if (!moduleDir.EndsWith('/')) moduleDir += "/";
            // The binary's directory is the target's; the same path on the host is some other directory.
            string? binaryRoot = roots[0];
            yield return (binaryRoot, moduleDir + link, true);
            yield return (binaryRoot, moduleDir + ".debug/" + link, true);
            foreach (string dir in dirs)
                foreach (string? root in roots)
                    yield return (root, dir + moduleDir + link, true);
        }
    }

    private static ElfImage? TryOpenMatching(string? root, string path, ElfImage binary, bool byDebugLink, Action<string>? verbose)
    {
        ElfImage? image = null;
        try
        {
            image = root is null ? ElfImage.Open(path) : ElfImage.OpenInRoot(root, path);
            // The build-id must agree when both have one: a debuglink name alone can point at a stale file.
            // Only a file with a .symtab adds anything (callers look only for stripped binaries).
            bool sameBuild = binary.BuildId is null || image.BuildId is null || image.BuildId == binary.BuildId;
            if (sameBuild && image.HasSymbolTable)
            {
                // A name found by .gnu_debuglink must also carry the CRC the binary recorded, as gdb requires:
                // an equally named file of another build would give wrong names.
                if (!byDebugLink || binary.DebugLinkCrc is not { } crc || image.ComputeFileCrc() == crc) return image;
                verbose?.Invoke($"Debug file {root}{path} not used: its CRC32 differs from the one in {binary.Path}'s .gnu_debuglink.");
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // Not there: the usual case for all but one candidate.
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // There, but no usable debug file (no regular file, too large, corrupt): keep looking.
            verbose?.Invoke($"Debug file {root}{path} not used: {ex.Message}");
        }
        image?.Dispose();
        return null;
    }
}
