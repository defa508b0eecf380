using System;
using System.Management.Automation;

namespace LeakTools.Tracing;

/// <summary>
/// Why tracing cannot start or go on, in the terms a cmdlet needs for its ErrorRecord:
/// a stable id, a category, the offending value and what to do about it.
/// </summary>
public sealed class TracerException : Exception
{
    public string ErrorId { get; }
    public ErrorCategory Category { get; }
    public object? Target { get; }
    public string RecommendedAction { get; }

    public TracerException(string message, string errorId, ErrorCategory category, object? target, string recommendedAction, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
        Target = target;
        RecommendedAction = recommendedAction;
    }
}
