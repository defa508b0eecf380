using System;

namespace LeakTools.Reachability;

/// <summary>A target could not be paused; <see cref="Failure"/> says why.</summary>
public sealed class TargetPauseException : Exception
{
    public TargetPauseException(PauseFailure failure, string message, int tracerProcessId = 0) : base(message)
    {
        Failure = failure;
        TracerProcessId = tracerProcessId;
    }

    public PauseFailure Failure { get; }

    /// <summary>With <see cref="PauseFailure.TargetTraced"/>: the process that traces the target.</summary>
    public int TracerProcessId { get; }
}
