using System;

namespace LeakTools.Tracing;

/// <summary>
/// Takes one batch of outstanding allocations as <see cref="AllocationTracer.ReadOutstanding(OutstandingBatchHandler)"/>
/// reads them. The span is only valid during the call: the next batch is read into the same buffer.
/// </summary>
public delegate void OutstandingBatchHandler(ReadOnlySpan<OutstandingAllocation> batch);
