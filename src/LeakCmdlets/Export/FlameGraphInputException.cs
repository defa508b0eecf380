using System;

namespace LeakTools.Export;

/// <summary>An input object that cannot become a flame graph stack; carries the error id and the remedy.</summary>
public sealed class FlameGraphInputException : Exception
{
    public FlameGraphInputException(string errorId, string message, string recommendedAction) : base(message)
    {
        ErrorId = errorId;
        RecommendedAction = recommendedAction;
    }

    public string ErrorId { get; }

    public string RecommendedAction { get; }
}
