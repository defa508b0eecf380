namespace LeakTools.Model;

/// <summary>
/// One leaking stack compared between two sets of MemoryLeak objects (Compare-MemoryLeak), matched by
/// process name and symbolized frames. A side the stack is missing from counts as 0 bytes in 0 allocations.
/// Plain settable properties of simple types, like every LeakTools output, so it survives serialization.
/// </summary>
public sealed class MemoryLeakDifference
{
    /// <summary>The process name both sides share ("[kernel]" for kernel allocations).</summary>
    public string? ProcessName { get; set; }

    public MemoryLeakChangeKind Change { get; set; }

    /// <summary>Outstanding bytes of this stack in the reference set (summed over its processes).</summary>
    public ulong ReferenceBytes { get; set; }

    public ulong DifferenceBytes { get; set; }

    /// <summary>DifferenceBytes minus ReferenceBytes: positive when the stack grew.</summary>
    public long BytesDelta { get; set; }

    /// <summary>Outstanding allocations of this stack in the reference set.</summary>
    public ulong ReferenceCount { get; set; }

    public ulong DifferenceCount { get; set; }

    public long CountDelta { get; set; }

    /// <summary>The frames, direct caller first, as the difference set has them (the reference's for a Gone stack).</summary>
    public StackFrame[] Stack { get; set; } = System.Array.Empty<StackFrame>();

    /// <summary>The stack as one line, as on MemoryLeak.</summary>
    public string StackText { get; set; } = string.Empty;

    public override string ToString() => $"{Change} {BytesDelta:+#;-#;0} bytes from {StackText}";
}
