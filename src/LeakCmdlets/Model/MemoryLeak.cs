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

    /// <summary>How <see cref="Stack"/> was obtained (unwind tables, with frame-pointer steps, the caller alone, the kernel's unwind).</summary>
    public StackSource StackSource { get; set; } = StackSource.CallerOnly;

    /// <summary>Why the walk of <see cref="Stack"/> stopped: EndOfStack when it reached the outermost frame, or what cut it short.</summary>
    public StackEnd StackEnd { get; set; }

    /// <summary>True when <see cref="Stack"/> reaches the outermost frame (_start, clone3): no caller is missing.</summary>
    public bool StackComplete { get; set; }

    /// <summary>Addresses of the outstanding allocations; only filled with -IncludeAddresses.</summary>
    public ulong[]? Addresses { get; set; }

    /// <summary>When this report was taken.</summary>
    public DateTime Timestamp { get; set; }

    /// <summary>How long the target had been traced when this report was taken.</summary>
    public TimeSpan TraceDuration { get; set; }

    /// <summary>
    /// 1 when every allocation was recorded (Bytes and Count are exact). N with -SampleRate N: about one allocation in N
    /// was recorded, and <see cref="Bytes"/>, <see cref="Count"/> and <see cref="BytesPerSecond"/> are the sample times N,
    /// estimates (the view marks them with ~); <see cref="Addresses"/> holds the sampled allocations only.
    /// </summary>
    public uint SampleRate { get; set; } = 1;

    /// <summary>What the whole trace of this process lost so far (the same object for every leak of one report).</summary>
    public TraceLoss Lost { get; set; } = new();

    /// <summary>
    /// The allocator traced, as the process maps it: the file name of the object whose malloc its calls bind to
    /// (libc.so.6, libjemalloc.so.2, libtcmalloc_minimal.so.4, or the executable itself when it is static); null for
    /// kernel allocations.
    /// </summary>
    public string? Allocator { get; set; }

    /// <summary>Which report of the trace this leak belongs to: 1 for the first; periodic reports (-Interval, -Count) count up.</summary>
    public int ReportIndex { get; set; }

    /// <summary>
    /// Start of the window whose allocations the report counts: when tracing of this process began.
    /// <see cref="Bytes"/> are allocations made between WindowStart and <see cref="WindowEnd"/> and still held at <see cref="Timestamp"/>.
    /// </summary>
    public DateTime WindowStart { get; set; }

    /// <summary>End of that window: -OlderThan before <see cref="Timestamp"/> (younger allocations are in flight); the report time once a -Command program has exited.</summary>
    public DateTime WindowEnd { get; set; }

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
