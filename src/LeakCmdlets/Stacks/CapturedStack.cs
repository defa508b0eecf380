using LeakTools.Model;

namespace LeakTools.Stacks;

/// <summary>
/// The frames a report shows for one allocation, direct caller first, how they were obtained, and why the walk
/// ended there. <see cref="Frames"/> is the identity of the stack: equal arrays are one stack, whatever their source.
/// </summary>
public readonly record struct CapturedStack(ulong[] Frames, StackSource Source, StackEnd End = StackEnd.None)
{
    /// <summary>True when the walk reached the outermost frame: no caller is missing.</summary>
    public bool IsComplete => End == StackEnd.EndOfStack;

    /// <summary>
    /// Values the walk stored that were no return address (outside executable code, or not after a call
    /// instruction): the stack was cut at the first of them, and this many were dropped. 0 when nothing was.
    /// </summary>
    public int RejectedFrames { get; init; }
}
