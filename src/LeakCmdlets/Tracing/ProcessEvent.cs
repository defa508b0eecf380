namespace LeakTools.Tracing;

/// <summary>
/// A fork, exec or exit of a traced process (or a fork not followed), as the BPF side saw it.
/// <paramref name="Image"/> is the process's new image (fork, exec) or its last (exit); <paramref name="PreviousImage"/>
/// the image exec replaced, or the forking parent's; <paramref name="Name"/> the process's name (after an exec, the new one).
/// </summary>
public readonly record struct ProcessEvent(ProcessEventKind Kind, ulong TimestampNs, int ProcessId, int ParentProcessId, uint Image, uint PreviousImage, string Name);
