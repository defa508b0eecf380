using System.Collections.Generic;
using System.Management.Automation;
using LeakTools.Analysis;
using LeakTools.Export;
using LeakTools.Model;

namespace LeakTools.Commands;

/// <summary>
/// Compare-MemoryLeak: which leaking stacks are new, gone, grown or shrunk between two sets of MemoryLeak
/// objects (before and after a deploy, host A and host B), with PowerShell's Compare-Object naming.
/// Stacks match by symbolized frames, not addresses, so sets from other hosts and runs compare.
/// </summary>
[Cmdlet(VerbsData.Compare, "MemoryLeak")]
[OutputType(typeof(MemoryLeakDifference))]
public sealed class CompareMemoryLeakCommand : LeakCmdletBase
{
    private readonly List<MemoryLeakInput> _difference = new();

    /// <summary>The earlier or baseline set: Find-MemoryLeak output, live or deserialized.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [AllowEmptyCollection]
    public PSObject[]? ReferenceObject { get; set; }

    /// <summary>The set compared with it; may come from the pipeline.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public PSObject[]? DifferenceObject { get; set; }

    /// <summary>Also output the stacks that hold the same on both sides.</summary>
    [Parameter]
    public SwitchParameter IncludeEqual { get; set; }

    protected override void ProcessRecord() => AddLeaks(DifferenceObject, _difference);

    protected override void EndProcessing()
    {
        var reference = new List<MemoryLeakInput>();
        AddLeaks(ReferenceObject, reference);
        foreach (MemoryLeakDifference change in MemoryLeakComparer.Compare(reference, _difference, IncludeEqual))
        {
            WriteObject(change);
        }
    }

    private void AddLeaks(PSObject[]? items, List<MemoryLeakInput> into)
    {
        foreach (PSObject item in PipelineInput.Items(items))
        {
            if (MemoryLeakReader.Read(item, out string? problem) is { } leak) into.Add(leak);
            else
            {
                WriteNonTerminatingError(
                    new System.ArgumentException($"The object \"{item}\" is not a MemoryLeak: {problem}."),
                    ErrorIds.NotAMemoryLeak, ErrorCategory.InvalidArgument, item,
                    "Pass the output of Find-MemoryLeak (or the same objects re-imported with Import-Clixml or received through remoting).");
            }
        }
    }
}
