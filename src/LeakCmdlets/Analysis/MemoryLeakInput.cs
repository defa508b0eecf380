using LeakTools.Model;

namespace LeakTools.Analysis;

/// <summary>A MemoryLeak read from the pipeline, with the host it came from (PSComputerName after remoting, else null).</summary>
public readonly record struct MemoryLeakInput(MemoryLeak Leak, string? ComputerName = null);
