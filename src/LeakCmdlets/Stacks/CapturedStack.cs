namespace LeakTools.Stacks;

/// <summary>
/// The frames a report shows for one allocation, direct caller first, and how they were obtained.
/// <see cref="Frames"/> is the identity of the stack: equal arrays are one stack, whatever their source.
/// </summary>
public readonly record struct CapturedStack(ulong[] Frames, StackSource Source);
