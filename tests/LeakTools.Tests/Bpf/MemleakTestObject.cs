using LeakTools.Bpf;
using LeakTools.Tracing;

namespace LeakTools.Tests.Bpf;

/// <summary>The real memleak eBPF object, loaded with no probe program (nothing is attached): its maps, and its test program.</summary>
internal static class MemleakTestObject
{
    public static BpfObject Load()
    {
        var bpf = BpfObject.OpenEmbedded("memleak");
        foreach (AllocatorProbe probe in AllocatorProbe.All)
        {
            bpf.SetAutoload(probe.EntryProgram, false);
            if (probe.ReturnProgram is not null) bpf.SetAutoload(probe.ReturnProgram, false);
        }
        bpf.SetAutoload("memleak__mapping_test", true);
        bpf.Load();
        return bpf;
    }
}
