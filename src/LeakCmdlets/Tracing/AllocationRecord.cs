namespace LeakTools.Tracing;

/// <summary>
/// One allocator call as streamed through the ring buffer. For frees, <paramref name="Size"/> is the size of
/// the block when it was known (0 otherwise) and <paramref name="StackKey"/> is 0 (no stack).
/// </summary>
public readonly record struct AllocationRecord(ulong TimestampNs, uint ProcessId, uint ThreadId, AllocatorFunction Function, ulong Address, ulong Size, ulong StackKey, ulong CallerAddress);
