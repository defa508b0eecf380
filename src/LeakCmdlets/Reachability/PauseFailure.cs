namespace LeakTools.Reachability;

/// <summary>Why a target could not be held still for a scan.</summary>
public enum PauseFailure
{
    /// <summary>Another tracer (gdb, strace) holds the target: it cannot be seized.</summary>
    TargetTraced,
    /// <summary>The target exited.</summary>
    TargetGone,
    /// <summary>Not every thread stopped before the pause deadline (a thread in uninterruptible sleep, a vfork).</summary>
    DeadlinePassed,
    /// <summary>The helper program is missing or failed.</summary>
    HelperFailed,
}
