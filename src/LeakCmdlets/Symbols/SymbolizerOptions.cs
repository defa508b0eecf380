using System;
using System.Collections.Generic;

namespace LeakTools.Symbols;

/// <summary>Where to look for separate debug files.</summary>
public sealed class SymbolizerOptions
{
    /// <summary>Environment variable with more debug directories, colon-separated, searched after the default.</summary>
    public const string DebugDirectoriesVariable = "LEAKTOOLS_DEBUG_DIRS";

    public const string DefaultDebugDirectory = "/usr/lib/debug";

    public SymbolizerOptions()
    {
        DebugDirectories = new List<string> { DefaultDebugDirectory };
        string? extra = Environment.GetEnvironmentVariable(DebugDirectoriesVariable);
        if (!string.IsNullOrEmpty(extra))
        {
            foreach (string dir in extra.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (!DebugDirectories.Contains(dir)) DebugDirectories.Add(dir);
        }
    }

    /// <summary>
    /// Debug roots, searched in order, on the host and inside the target's /proc/PID/root: "&lt;dir&gt;/.build-id/ab/cdef….debug"
    /// by build-id, and "&lt;dir&gt;/&lt;binary's directory&gt;/&lt;debuglink&gt;" by .gnu_debuglink.
    /// </summary>
    public IList<string> DebugDirectories { get; }

    /// <summary>
    /// Fill <c>File</c> and <c>Line</c> of frames from DWARF .debug_line when the binary or its debug file has it.
    /// Costs a one-time parse per module (cached with its symbols); on by default.
    /// </summary>
    public bool IncludeSourceLines { get; set; } = true;

    /// <summary>
    /// Told, once per module, why a module or a debug file found for it gives no symbols (unreadable, corrupt, no
    /// regular file, too large); its frames stay unnamed. Called on whatever thread symbolizes; null for silence.
    /// </summary>
    public Action<string>? Verbose { get; set; }
}
