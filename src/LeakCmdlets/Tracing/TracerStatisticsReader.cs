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
        ulong[] s = Counters().SumOverCpus(MemleakAbi.StatCount);
        ulong Get(MemleakAbi.Stat stat) => s[(int)stat];
        stats.Allocations = Get(MemleakAbi.Stat.Allocs);
        stats.Frees = Get(MemleakAbi.Stat.Frees);
        stats.UnknownFrees = Get(MemleakAbi.Stat.UnknownFrees);
        stats.FailedAllocations = Get(MemleakAbi.Stat.FailedAllocs);
        stats.MapFullDrops = Get(MemleakAbi.Stat.MapFull);
        stats.StackMapFull = Get(MemleakAbi.Stat.StackMapFull);
        stats.StackErrors = Get(MemleakAbi.Stat.StackErrors);
        stats.MissedReturns = Get(MemleakAbi.Stat.MissedReturns);
        stats.RingBufferDrops = Get(MemleakAbi.Stat.RingBufferDrops);
        stats.NestingOverflows = Get(MemleakAbi.Stat.NestingOverflow);
        stats.PendingErrors = Get(MemleakAbi.Stat.PendingErrors);
        stats.SampledOut = Get(MemleakAbi.Stat.SampledOut);
        stats.FilteredOut = Get(MemleakAbi.Stat.FilteredOut);
        stats.NestedCalls = Get(MemleakAbi.Stat.NestedCalls);
        stats.MismatchedRecords = (ulong)(_stream?.MismatchedRecords ?? 0);
        for (int fn = 0; fn < MemleakAbi.FunctionCount; fn++)
        {
            ulong hits = s[(int)MemleakAbi.Stat.HitsBase + fn];
            if (hits != 0) stats.Hits[(AllocatorFunction)fn] = hits;
            stats.TotalHits += hits;
        }
        return stats;
    }

    /// <summary>What the counters say was lost, grouped by the advice each kind of loss needs.</summary>
    public TraceLoss ReadLoss()
    {
        var statistics = Read();
        return new TraceLoss
        {
            MapFull = statistics.MapFullDrops,
            StacksLost = statistics.StacksLost,
            // Calls whose outcome is unknown, for whatever reason, all make the report incomplete the same way.
            MissedReturns = statistics.MissedReturns + statistics.NestingOverflows + statistics.PendingErrors,
            // The ring was full: the consumer was too slow.
            RingBufferDrops = statistics.RingBufferDrops,
            MismatchedRecords = statistics.MismatchedRecords,
        };
    }

    private BpfPerCpuArray Counters() => _counters ??= _bpf.PerCpuCounters(_countOnly ? "counts" : "stats");
}
