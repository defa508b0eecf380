using System;
using System.IO;
using System.Management.Automation;

namespace LeakTools.Commands;

/// <summary>
/// Resolves the -Path of an export cmdlet to a file system path it can create, before the upstream command
/// spends time tracing. Every problem is an IOException, which each cmdlet reports under its own error id.
/// </summary>
internal static class OutputFilePath
{
    public static string Resolve(SessionState sessionState, string path)
    {
        string resolved;
        try
        {
            resolved = sessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
            if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
            {
                throw new IOException($"'{path}' is not a file system path.");
            }
        }
        catch (Exception ex) when (ex is ItemNotFoundException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or NotSupportedException or PSArgumentException)
        {
            throw new IOException(ex.Message, ex);
        }

        string? directory = Path.GetDirectoryName(resolved);
        if (Directory.Exists(resolved)) throw new IOException($"'{resolved}' is a directory; give a file name.");
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The directory '{directory}' does not exist.");
        }
        return resolved;
    }
}
