using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Text;
using LeakTools.Export;

namespace LeakTools.Commands;

/// <summary>
/// Export-FlameGraph: turns leaking stacks (MemoryLeak) or allocation events (AllocationEvent) into an
/// interactive SVG flame graph or folded-stack text. Input is read by property name so deserialized
/// objects (remoting, Import-Clixml) draw the same as live ones.
/// </summary>
[Cmdlet(VerbsData.Export, "FlameGraph")]
[OutputType(typeof(FileInfo))]
public sealed class ExportFlameGraphCommand : LeakCmdletBase
{
    private readonly List<StackSample> _samples = new();
    private string? _resolvedPath;

    /// <summary>MemoryLeak or AllocationEvent objects, or anything with Stack and Bytes/Size (and Count).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public PSObject[]? InputObject { get; set; }

    /// <summary>The file to write; it is replaced if it exists.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    [Parameter]
    public FlameGraphFormat Format { get; set; } = FlameGraphFormat.Svg;

    [Parameter]
    public FlameGraphWeight Weight { get; set; } = FlameGraphWeight.Bytes;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Title { get; set; } = "Outstanding allocations";

    /// <summary>Root at the top, stacks growing down.</summary>
    [Parameter]
    public SwitchParameter Icicle { get; set; }

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
        if (_samples.Count == 0)
        {
            ThrowTerminating(new InvalidOperationException("There are no stacks to draw: the input was empty or no object had a usable Stack."),
                ErrorIds.FlameGraphInputEmpty, ErrorCategory.InvalidData, Path,
                "Pipe the output of Find-MemoryLeak, or of Watch-Allocation -IncludeStack, and check that it is not empty.");
        }
        FlameNode root = FlameNode.Build(_samples, Weight);
        if (root.WeightOf(Weight) == 0)
        {
            ThrowTerminating(new InvalidOperationException($"Every input stack has a {Weight} of 0, so there is nothing to draw."),
                ErrorIds.FlameGraphInputEmpty, ErrorCategory.InvalidData, Path,
                Weight == FlameGraphWeight.Bytes ? "Use -Weight Count, or pipe objects with non-zero Bytes." : "Pipe objects with a non-zero Count.");
        }

        string path = _resolvedPath!;
        try
        {
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
            if (Format == FlameGraphFormat.Folded)
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                FoldedStackWriter.Write(writer, _samples, Weight);
            }
            else
            {
                new FlameGraphSvgWriter { Title = Title, Weight = Weight, Icicle = Icicle.IsPresent }.Write(stream, root);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowPathNotWritable(ex);
        }

        WriteVerbose($"Wrote {_samples.Count} stacks ({root.Bytes} bytes, {root.Count} allocations) to {path}.");
        // Through the provider, so the FileInfo carries PSPath and friends and formats like Get-Item's.
        if (PassThru) WriteObject(InvokeProvider.Item.Get(new[] { path }, true, true), true);
    }

    private void Add(PSObject item)
    {
        try
        {
            _samples.Add(StackSampleReader.Read(item, Weight));
        }
        catch (FlameGraphInputException ex)
        {
            WriteNonTerminatingError(ex, ex.ErrorId, ErrorCategory.InvalidArgument, item, ex.RecommendedAction);
        }
    }

    private void ThrowPathNotWritable(Exception ex) =>
        ThrowTerminating(new IOException($"Cannot write the flame graph to '{Path}': {ex.Message}", ex),
            ErrorIds.FlameGraphPathNotWritable, ErrorCategory.WriteError, Path,
            "Give a path in an existing directory that you can write to.");
}
