using System;

namespace LeakTools.Model;

/// <summary>
/// One mapping compared between two snapshots, matched by process, start address and path.
/// Before/After are null where the mapping is missing from that snapshot; deltas treat missing as 0.
/// </summary>
public sealed class MemoryMappingChange
{
    public int ProcessId { get; set; }
    public string? ProcessName { get; set; }
    public MappingChangeKind Change { get; set; }
    public ulong Start { get; set; }
    public ulong End { get; set; }
    public string Permissions { get; set; } = "";
    public string Path { get; set; } = "";
    public MappingKind Kind { get; set; }
    /// <summary>Time between the snapshots; null when the snapshots carry no timestamps.</summary>
    public double? IntervalSeconds { get; set; }

    public long? SizeBefore { get; set; }
    public long? SizeAfter { get; set; }
    public long SizeDelta { get; set; }
    public long? RssBefore { get; set; }
    public long? RssAfter { get; set; }
    public long RssDelta { get; set; }
    public long? PrivateDirtyBefore { get; set; }
    public long? PrivateDirtyAfter { get; set; }
    public long PrivateDirtyDelta { get; set; }
    public long SwapDelta { get; set; }
    /// <summary>RssDelta per second of <see cref="IntervalSeconds"/>; null without timestamps.</summary>
    public double? RssBytesPerSecond { get; set; }

    public override string ToString() =>
        $"{Change} {Start:x} {(Path.Length == 0 ? "[anon]" : Path)}: Rss {RssDelta:+#;-#;0} bytes";
}
