using System;

namespace LeakTools.Model;

/// <summary>
/// Memory that one allocation stack holds and has not freed: what Find-MemoryLeak emits, one per stack.
/// Byte counts stay raw; the view converts. Every property is a plain settable one of a simple type,
/// so the object keeps its meaning after remoting, Export-Clixml or ConvertTo-Json.
/// </summary>
public sealed class MemoryLeak
{
    /// <summary>The traced process (0 for kernel allocations).</summary>
    public int ProcessId { get; set; }

    /// <summary>The traced process's name (its comm), or "[kernel]".</summary>
    public string? ProcessName { get; set; }

    /// <summary>Bytes allocated from this stack and still outstanding (older than -OlderThan) at report time.</summary>
    public ulong Bytes { get; set; }

    /// <summary>Number of those outstanding allocations.</summary>
    public ulong Count { get; set; }

    /// <summary>Age of the oldest of them at report time.</summary>
    public TimeSpan OldestAge { get; set; }

    /// <summary>
    /// Growth: <see cref="Bytes"/> divided by the part of the trace window they could have been made in
    /// (from the start of the trace until -OlderThan before the report).
    /// </summary>
    public double BytesPerSecond { get; set; }

    /// <summary>The allocating stack, the allocator's direct caller first (e.g. fibonacci, child, start_thread).</summary>
    public StackFrame[] Stack { get; set; } = Array.Empty<StackFrame>();

    /// <summary>The stack as one line, "fibonacci+0x1c ← child+0x4a ← start_thread+0xf3"; survives any serializer.</summary>
    public string StackText { get; set; } = string.Empty;

    /// <summary>Addresses of the outstanding allocations; only filled with -IncludeAddresses.</summary>
    public ulong[]? Addresses { get; set; }

    /// <summary>When this report was taken.</summary>
    public DateTime Timestamp { get; set; }

    /// <summary>How long the target had been traced when this report was taken.</summary>
    public TimeSpan TraceDuration { get; set; }

    /// <summary>What the whole trace of this process lost so far (the same object for every leak of one report).</summary>
    public TraceLoss Lost { get; set; } = new();

    /// <summary>
    /// With -Verdict: what a scan of the paused target's memory says about these allocations (the group holds
    /// only allocations of this one verdict); null without -Verdict.
    /// </summary>
    public LeakVerdict? Verdict { get; set; }

    /// <summary>With -Verdict: the bytes of this group's own allocations (the same as <see cref="Bytes"/>).</summary>
    public ulong? DirectBytes { get; set; }

    /// <summary>
    /// With -Verdict: for DefinitelyLost, the bytes of the blocks that are lost only through these (indirectly lost,
    /// reported in their own IndirectlyLost groups too); 0 for every other verdict.
    /// </summary>
    public ulong? IndirectBytes { get; set; }

    /// <summary>With -Verdict: true when the previous scan (-Interval) found lost some of these same allocations too.</summary>
    public bool? Confirmed { get; set; }

    /// <summary>
    /// With -Verdict and -IncludeAddresses, for PossiblyLost: per address, where the first pointer into the block was
    /// found and how far in it points ("0x7ffd5e4c1a30 -> +0x10", "register -> +0x8").
    /// </summary>
    public string[]? Referrers { get; set; }

    public override string ToString() => $"{Bytes} bytes in {Count} allocations from {StackText}";
}
