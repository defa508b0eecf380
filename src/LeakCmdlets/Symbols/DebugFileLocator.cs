using System;
using System.Collections.Generic;
using System.IO;

namespace LeakTools.Symbols;

/// <summary>
/// Finds the separate debug file of a stripped binary the way gdb does: by build-id under
/// "&lt;debugdir&gt;/.build-id/", then by .gnu_debuglink next to the binary, in its ".debug/" subdirectory and
/// under "&lt;debugdir&gt;/&lt;binary's directory&gt;/". Each place is tried inside the target's root first, then on the host.
/// </summary>
internal static class DebugFileLocator
{
    /// <param name="binary">The opened module.</param>
    /// <param name="modulePath">The module's path as the target sees it.</param>
    /// <param name="targetRoot">"/proc/PID/root", or null to search the host only.</param>
    public static ElfImage? Find(ElfImage binary, string modulePath, string? targetRoot, IEnumerable<string> debugDirectories)
    {
        foreach (string candidate in Candidates(binary, modulePath, targetRoot, debugDirectories))
        {
            ElfImage? image = TryOpenMatching(candidate, binary);
            if (image is not null) return image;
        }
        return null;
    }

    internal static IEnumerable<string> Candidates(ElfImage binary, string modulePath, string? targetRoot, IEnumerable<string> debugDirectories)
    {
        var roots = new List<string>(2);
        if (!string.IsNullOrEmpty(targetRoot)) roots.Add(targetRoot);
        roots.Add(string.Empty);
        var dirs = new List<string>();
        foreach (string d in debugDirectories) dirs.Add(d.TrimEnd('/'));

        if (binary.BuildId is { Length: > 2 } id)
        {
            string relative = $"/.build-id/{id[..2]}/{id[2..]}.debug";
            foreach (string dir in dirs)
                foreach (string root in roots)
                    yield return root + dir + relative;
        }

        if (binary.DebugLink is { Length: > 0 } link && !link.Contains('/'))
        {
            string moduleDir = Path.GetDirectoryName(modulePath) ?? "/";
            if (!moduleDir.EndsWith('/')) moduleDir += "/";
            foreach (string root in roots)
            {
                yield return root + moduleDir + link;
                yield return root + moduleDir + ".debug/" + link;
            }
            foreach (string dir in dirs)
                foreach (string root in roots)
                    yield return root + dir + moduleDir + link;
        }
    }

    private static ElfImage? TryOpenMatching(string candidate, ElfImage binary)
    {
        if (!File.Exists(candidate)) return null;
        ElfImage? image = null;
        try
        {
            image = ElfImage.Open(candidate);
            // The build-id must agree when both have one: a debuglink name alone can point at a stale file.
            // Only a file with a .symtab adds anything (callers look only for stripped binaries).
            bool sameBuild = binary.BuildId is null || image.BuildId is null || image.BuildId == binary.BuildId;
            if (sameBuild && image.HasSymbolTable) return image;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // Not a usable debug file: keep looking.
        }
        image?.Dispose();
        return null;
    }
}
