using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>
/// User mode: memleak's sched_process_fork/exec/exit programs, which keep the "traced" map (the probes' filter)
/// current as the target forks, execs and exits, and tell user space through the "process_events" ring.
/// </summary>
internal static class ProcessTreeProbes
{
    private static readonly string[] Programs =
    {
        "memleak__sched_process_fork",
        "memleak__sched_process_exec",
        "memleak__sched_process_exit",
    };

    /// <summary>Before load: on for user mode, off for kernel mode.</summary>
    public static void SetAutoload(BpfObject bpf, bool on)
    {
        foreach (string program in Programs) bpf.SetAutoload(program, on);
    }

    /// <summary>
    /// After load, before any probe: makes <paramref name="tgid"/> the first traced process (image 0), then attaches
    /// the tracepoints, so a fork that comes before the probes is followed already.
    /// </summary>
    public static void SeedAndAttach(BpfObject bpf, int tgid)
    {
        bpf.HashMap<uint, MemleakAbi.Process>("traced").Update((uint)tgid, new MemleakAbi.Process { Image = 0 });
        foreach (string program in Programs) bpf.Attach(program);
    }
}
