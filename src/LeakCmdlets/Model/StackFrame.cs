namespace LeakTools.Model;

/// <summary>
/// One frame of a user or kernel stack. Plain settable properties of simple types, so the object
/// keeps its meaning after serialization (remoting, Export-Clixml, ConvertTo-Json).
/// </summary>
public sealed class StackFrame
{
    /// <summary>The instruction address in the traced process (or the kernel).</summary>
    public ulong Address { get; set; }

    /// <summary>The bare, demangled function name (e.g. "fibonacci"), or null when no symbol covers the address.</summary>
    public string? Symbol { get; set; }

    /// <summary>Offset of <see cref="Address"/> from the start of <see cref="Symbol"/>.</summary>
    public ulong Offset { get; set; }

    /// <summary>File name of the module that holds the address (e.g. "libc.so.6", "app", "[kernel]").</summary>
    public string? Module { get; set; }

    /// <summary>Path of the module as the target process sees it.</summary>
    public string? ModulePath { get; set; }

    /// <summary>Offset of the address within the module file; what an unresolved frame shows.</summary>
    public ulong ModuleOffset { get; set; }

    /// <summary>Source file, where debug information says so.</summary>
    public string? File { get; set; }

    /// <summary>Source line, where debug information says so.</summary>
    public int? Line { get; set; }

    public bool IsKernel { get; set; }

    /// <summary>GNU build-id of the module (lowercase hex), where the file has one; names the exact binary across hosts.</summary>
    public string? BuildId { get; set; }

    /// <summary>
    /// A function that left the stack by a tail call (it ended in <c>jmp</c> to the next-inner function instead of a
    /// call): no return address of its own, found from the call its caller made. <see cref="Address"/> is its entry.
    /// </summary>
    public bool IsTailCall { get; set; }

    /// <summary>The text <see cref="ToString"/> appends to a tail-call frame.</summary>
    public const string TailCallMarker = " [tail call]";

    /// <summary>"fibonacci+0x1c", "leak_calloc [tail call]", or "app+0x1234" when no symbol is known; never a bare "[unknown]".</summary>
    public override string ToString()
    {
        string text;
        if (Symbol is not null) text = Offset == 0 ? Symbol : $"{Symbol}+0x{Offset:x}";
        else if (Module is not null) text = $"{Module}+0x{ModuleOffset:x}";
        else text = $"0x{Address:x}";
        return IsTailCall ? text + TailCallMarker : text;
    }
}
