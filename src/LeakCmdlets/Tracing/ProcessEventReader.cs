using System;
using System.Collections.Generic;
using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>Reads the "process_events" ring: the forks, execs and exits of the traced processes, oldest first.</summary>
internal sealed class ProcessEventReader : IDisposable
{
    /// <summary>The ring's size (max_entries of process_events in memleak.bpf.c): about 1,300 events.</summary>
    private const uint RingBytes = 1 << 16;

    private readonly RingBufferReader _ring;
    private readonly MemleakAbi.ProcessEvent[] _batch = new MemleakAbi.ProcessEvent[256];

    public ProcessEventReader(BpfObject bpf) => _ring = bpf.MapRingBuffer("process_events", RingBytes);

    /// <summary>Everything waiting, appended to <paramref name="into"/>.</summary>
    public void ReadAll(List<ProcessEvent> into)
    {
        int n;
        while ((n = _ring.Read(_batch.AsSpan())) > 0)
        {
            for (int i = 0; i < n; i++)
            {
                ref readonly var e = ref _batch[i];
                into.Add(new ProcessEvent(e.Kind switch
                {
                    MemleakAbi.ProcessEventKind.Fork => ProcessEventKind.Fork,
                    MemleakAbi.ProcessEventKind.Exec => ProcessEventKind.Exec,
                    MemleakAbi.ProcessEventKind.Exit => ProcessEventKind.Exit,
                    _ => ProcessEventKind.UntracedFork,
                }, e.TimestampNs, (int)e.Tgid, (int)e.ParentTgid, e.Image, e.PreviousImage, e.CommText()));
            }
        }
    }

    public void Dispose() => _ring.Dispose();
}
