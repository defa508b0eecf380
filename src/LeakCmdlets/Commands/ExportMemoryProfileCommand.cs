using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using LeakTools.Analysis;
using LeakTools.Export;

namespace LeakTools.Commands;

/// <summary>
/// Export-MemoryProfile: writes MemoryLeak objects (live or deserialized) as a gzipped pprof heap profile
/// (perftools.profiles.Profile) for go tool pprof, speedscope, Grafana Pyroscope and Parca.
/// A cmdlet of its own rather than an Export-FlameGraph format: a profile keeps both values, addresses,
/// mappings, build-ids and source lines, and leaves the drawing to the viewer, so Export-FlameGraph's
/// -Weight, -Title and -Icicle would mean nothing for it.
/// </summary>
[Cmdlet(VerbsData.Export, "MemoryProfile")]
[OutputType(typeof(FileInfo))]
public sealed class ExportMemoryProfileCommand : LeakCmdletBase
{
    private readonly List<MemoryLeakInput> _leaks = new();
    private string? _resolvedPath;

    /// <summary>MemoryLeak objects from Find-MemoryLeak, or the same re-imported or received through remoting.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public PSObject[]? InputObject { get; set; }

    /// <summary>The file to write (by convention *.pb.gz); it is replaced if it exists.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Checks the destination before the upstream command spends time tracing.</summary>
    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        try
        {
            _resolvedPath = OutputFilePath.Resolve(SessionState, Path);
        }
        catch (IOException ex)
        {
            ThrowPathNotWritable(ex);
        }
    }

    protected override void ProcessRecord()
    {
        foreach (PSObject item in PipelineInput.Items(InputObject)) Add(item);
    }

    protected override void EndProcessing()
    {
        if (_leaks.Count == 0)
        {
            ThrowTerminating(new InvalidOperationException("There are no leaks to export: the input was empty or no object was a MemoryLeak."),
                ErrorIds.MemoryProfileInputEmpty, ErrorCategory.InvalidData, Path,
                "Pipe the output of Find-MemoryLeak, and check that it is not empty.");
        }

        var builder = new PprofProfileBuilder();
        List<MemoryLeakInput> latest = LatestLeakReport.Select(_leaks, out int leftOut);
        foreach (MemoryLeakInput leak in latest) builder.Add(leak);
        if (leftOut > 0)
        {
            WriteVerbose($"Left out {leftOut} leaks of earlier reports: a process's latest report already holds what they held.");
        }
        PprofProfile profile = builder.Build();

        string path = _resolvedPath!;
        try
        {
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
            PprofEncoder.Write(stream, profile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowPathNotWritable(ex);
        }

        WriteVerbose($"Wrote {profile.Samples.Count} samples, {profile.Locations.Count} locations and {profile.Mappings.Count} mappings to {path}.");
        if (PassThru) WriteObject(InvokeProvider.Item.Get(new[] { path }, true, true), true);
    }

    private void Add(PSObject item)
    {
        if (MemoryLeakReader.Read(item, out string? problem) is { } leak)
        {
            _leaks.Add(leak);
            return;
        }
        WriteNonTerminatingError(new ArgumentException($"The object \"{item}\" is not a MemoryLeak: {problem}."),
            ErrorIds.NotAMemoryLeak, ErrorCategory.InvalidArgument, item,
            "Pipe the output of Find-MemoryLeak (or the same objects re-imported with Import-Clixml or received through remoting). Export-FlameGraph draws AllocationEvent objects.");
    }

    private void ThrowPathNotWritable(Exception ex) =>
        ThrowTerminating(new IOException($"Cannot write the memory profile to '{Path}': {ex.Message}", ex),
            ErrorIds.MemoryProfilePathNotWritable, ErrorCategory.WriteError, Path,
            "Give a path in an existing directory that you can write to.");
}
