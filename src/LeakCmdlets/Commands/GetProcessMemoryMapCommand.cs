using System.Management.Automation;
using LeakTools.Model;

namespace LeakTools.Commands;

/// <summary>
/// pmap -x / pmap -X as objects: one per mapping, with every field of /proc/PID/smaps, streamed as parsed.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ProcessMemoryMap", DefaultParameterSetName = NameParameterSet)]
[OutputType(typeof(MemoryMapping))]
public sealed class GetProcessMemoryMapCommand : ProcfsProcessCmdletBase
{
    protected override void ProcessRecord()
    {
        foreach (int pid in ResolveTargetProcessIds())
        {
            if (Wait.IsCancelled) return;
            ReadMappings(pid, mapping => WriteObject(mapping));
        }
    }

    protected override void EndProcessing() => WriteDeniedSummary("Mappings are missing");
}
