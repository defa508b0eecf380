using LeakTools.Bpf;
using LeakTools.Model;

namespace LeakTools.Tracing;

/// <summary>
/// Reads a tracer's per-CPU counters (the floor probe's "counts" in CountOnly mode, memleak's "stats"
/// otherwise) as <see cref="TracerStatistics"/>, and rolls them up into the <see cref="TraceLoss"/> the cmdlets warn about.
/// </summary>
internal sealed class TracerStatisticsReader
{
    private readonly BpfObject _bpf;
    private readonly bool _countOnly;
    private readonly StreamedCalls? _stream;
    private BpfPerCpuArray? _counters;

    /// <param name="stream">The tracer's event stream, whose ring counts the records it skipped; null when not streaming.</param>
    public TracerStatisticsReader(BpfObject bpf, bool countOnly, StreamedCalls? stream)
    {
        _bpf = bpf;
        _countOnly = countOnly;
        _stream = stream;
    }

    public TracerStatistics Read()
    {
        var stats = new TracerStatistics();
        if (_countOnly)
        {
            ulong[] counts = Counters().SumOverCpus(MemleakAbi.AllocountSlots);
            for (int fn = 0; fn < MemleakAbi.FunctionCount; fn++)
            {
                if (counts[fn * 2] != 0) stats.Hits[(AllocatorFunction)fn] = counts[fn * 2];
                if (counts[fn * 2 + 1] != 0) stats.ReturnHits[(AllocatorFunction)fn] = counts[fn * 2 + 1];
                stats.TotalHits += counts[fn * 2];
            }
            return stats;
        }
        return TracerStatistics.FromCounters(Counters().SumOverCpus(MemleakAbi.StatCount), (ulong)(_stream?.MismatchedRecords ?? 0));
    }

    /// <summary>What the counters say was lost, grouped by the advice each kind of loss needs.</summary>
    public TraceLoss ReadLoss() => Read().ToLoss();

    private BpfPerCpuArray Counters() => _counters ??= _bpf.PerCpuCounters(_countOnly ? "counts" : "stats");
}
