namespace LeakTools.Reachability;

/// <summary>
/// One stopped thread's registers: its stack pointer and every general register word (on x86-64 including
/// fs_base, the thread pointer), each a root of the reachability scan.
/// </summary>
public sealed record ThreadRegisters(int ThreadId, ulong StackPointer, ulong[] Words);
