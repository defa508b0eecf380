namespace LeakTools.Tracing;

/// <summary>What happened to a process of a traced tree.</summary>
public enum ProcessEventKind
{
    /// <summary>A traced process forked a child, traced from its first instruction.</summary>
    Fork,
    /// <summary>A traced process exec'd: the blocks of its old image died with its address space.</summary>
    Exec,
    /// <summary>The last thread of a traced process exited.</summary>
    Exit,
    /// <summary>A traced process forked a child that is not followed (no -IncludeChildren).</summary>
    UntracedFork,
}
