using System.Collections.Generic;
using System.Management.Automation;
using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>Kernel mode: memleak's tp_btf programs for the kmem/percpu tracepoints this kernel has, loaded and attached.</summary>
internal static class KernelTracepoints
{
    /// <summary>Switches off the user-space programs and the tracepoints this kernel lacks, loads, attaches the rest.</summary>
    public static void LoadAndAttach(BpfObject bpf, AllocationTracerOptions options)
    {
        foreach (AllocatorProbe probe in AllocatorProbe.UserSpace)
        {
            bpf.SetAutoload(probe.EntryProgram, false);
            if (probe.ReturnProgram is not null) bpf.SetAutoload(probe.ReturnProgram, false);
        }
        ProcessTreeProbes.SetAutoload(bpf, false);
        // A tp_btf program needs the tracepoint in the kernel's BTF; switch off the ones this kernel lacks.
        var available = new List<(AllocatorFunction Function, string Program, string Tracepoint)>();
        foreach (var k in AllocatorProbe.Kernel)
        {
            bool present = TracerPreflight.KernelHasTracepoint(k.Tracepoint);
            bpf.SetAutoload(k.Program, present);
            if (present) available.Add(k);
            else options.Verbose?.Invoke($"This kernel has no tracepoint {k.Tracepoint}: {k.Function} is not traced.");
        }
        if (available.Count == 0)
        {
            throw new TracerException("None of the kmem/percpu tracepoints is in this kernel's BTF.",
                ErrorIds.NoTracepoints, ErrorCategory.NotInstalled, "/sys/kernel/btf/vmlinux",
                "Use a kernel built with CONFIG_TRACEPOINTS and CONFIG_DEBUG_INFO_BTF.");
        }
        bpf.Load();
        foreach (var k in available)
        {
            bpf.Attach(k.Program);
            options.Verbose?.Invoke($"Attached {k.Program} to tracepoint {k.Tracepoint}.");
        }
    }
}
