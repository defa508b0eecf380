using System;
using System.Collections.Generic;
using System.Management.Automation;
using LeakTools.Model;
using LeakTools.Procfs;

namespace LeakTools.Commands;

/// <summary>
/// Which mapping grew: compares two snapshots of Get-ProcessMemoryMap (taken by the user, even exported
/// with Export-Clixml and imported again), or takes both itself -Interval seconds apart for the processes
/// named by -Id, -Name or -InputObject. One change object per mapping, biggest Rss growth first.
/// </summary>
[Cmdlet(VerbsData.Compare, "ProcessMemoryMap", DefaultParameterSetName = SnapshotParameterSet)]
[OutputType(typeof(MemoryMappingChange))]
public sealed class CompareProcessMemoryMapCommand : ProcfsProcessCmdletBase
{
    private const string SnapshotParameterSet = "Snapshot";

    private readonly List<MemoryMapping> _difference = new();
    private readonly List<int> _targets = new();

    /// <summary>The earlier snapshot: the output of Get-ProcessMemoryMap.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SnapshotParameterSet)]
    [AllowEmptyCollection]
    public PSObject[]? ReferenceObject { get; set; }

    /// <summary>The later snapshot; may come from the pipeline.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = SnapshotParameterSet, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public PSObject[]? DifferenceObject { get; set; }

    /// <summary>Seconds between the two snapshots this cmdlet takes itself.</summary>
    [Parameter(ParameterSetName = IdParameterSet)]
    [Parameter(ParameterSetName = NameParameterSet)]
    [Parameter(ParameterSetName = InputObjectParameterSet)]
    [ValidateInterval]
    public double Interval { get; set; } = 5;

    /// <summary>Also output the mappings that did not change.</summary>
    [Parameter]
    public SwitchParameter IncludeUnchanged { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == SnapshotParameterSet)
        {
            AddMappings(DifferenceObject, _difference);
            return;
        }
        foreach (int pid in ResolveTargetProcessIds())
        {
            if (!_targets.Contains(pid)) _targets.Add(pid);
        }
    }

    protected override void EndProcessing()
    {
        List<MemoryMapping> before, after;
        if (ParameterSetName == SnapshotParameterSet)
        {
            before = new List<MemoryMapping>();
            AddMappings(ReferenceObject, before);
            after = _difference;
        }
        else
        {
            if (_targets.Count == 0) return;
            before = TakeSnapshot(_targets);
            if (!Wait.WaitUntil(DateTime.UtcNow.AddSeconds(Interval), this, "Compare-ProcessMemoryMap")) return;
            after = TakeSnapshot(_targets);
        }
        foreach (MemoryMappingChange change in MemoryMapComparer.Compare(before, after, IncludeUnchanged))
        {
            WriteObject(change);
        }
        WriteDeniedSummary("Mappings are missing");
    }

    private List<MemoryMapping> TakeSnapshot(IReadOnlyList<int> pids)
    {
        var snapshot = new List<MemoryMapping>();
        foreach (int pid in pids)
        {
            if (Wait.IsCancelled) break;
            ReadMappings(pid, snapshot.Add);
        }
        return snapshot;
    }

    private void AddMappings(PSObject[]? items, List<MemoryMapping> into)
    {
        if (items is null) return;
        foreach (PSObject item in items)
        {
            if (item is null) continue;
            if (item.BaseObject is MemoryMapping mapping) into.Add(mapping);
            else if (FromProperties(item) is { } rebuilt) into.Add(rebuilt);
            else
            {
                WriteNonTerminatingError(
                    new ArgumentException($"The object \"{item}\" is not a memory mapping: it needs at least Start and Path properties."),
                    ErrorIds.NotAMemoryMapping, ErrorCategory.InvalidArgument, item,
                    "Pass the output of Get-ProcessMemoryMap (or the same objects re-imported with Import-Clixml).");
            }
        }
    }

    // A snapshot that went through Export-Clixml/Import-Clixml or remoting comes back as a property bag.
    private static MemoryMapping? FromProperties(PSObject item)
    {
        if (item.Properties["Start"]?.Value is not { } start || item.Properties["Path"] is not { } path) return null;
        try
        {
            return new MemoryMapping
            {
                ProcessId = Get<int>(item, "ProcessId"),
                ProcessName = Get<string?>(item, "ProcessName"),
                Timestamp = Get<DateTime>(item, "Timestamp"),
                Start = LanguagePrimitives.ConvertTo<ulong>(start),
                End = Get<ulong>(item, "End"),
                Size = Get<long>(item, "Size"),
                Permissions = Get<string?>(item, "Permissions") ?? "",
                Path = path.Value?.ToString() ?? "",
                Kind = Get<MappingKind>(item, "Kind"),
                Rss = Get<long?>(item, "Rss"),
                PrivateDirty = Get<long?>(item, "PrivateDirty"),
                Swap = Get<long?>(item, "Swap"),
            };
        }
        catch (PSInvalidCastException)
        {
            return null;
        }
    }

    private static T Get<T>(PSObject item, string name) =>
        item.Properties[name]?.Value is { } value ? LanguagePrimitives.ConvertTo<T>(value) : default!;
}
