namespace LeakTools.Stacks;

/// <summary>
/// The call instruction that ends right before a return address. <see cref="Target"/> is the called address for
/// <see cref="CallKind.Direct"/>, the slot the target is read from for <see cref="CallKind.ThroughSlot"/>, and 0
/// for calls whose target is unknown.
/// </summary>
public readonly record struct CallInstruction(CallKind Kind, int Length, ulong Target);
