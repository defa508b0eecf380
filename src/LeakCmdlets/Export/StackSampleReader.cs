using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using LeakTools.Model;

namespace LeakTools.Export;

/// <summary>
/// Reads MemoryLeak and AllocationEvent objects by property name, not by type, so objects that lost
/// their type on the way (remoting, Import-Clixml, ConvertFrom-Json) still draw: Stack, Bytes or Size,
/// Count, ProcessName or ProcessId; frames may be StackFrame objects, property bags or plain strings
/// ("main+0x83", merged by function like typed frames).
/// </summary>
public static class StackSampleReader
{
    /// <summary>Stacks are innermost first on MemoryLeak/AllocationEvent (frame 0 is the allocation site).</summary>
    public static StackSample Read(PSObject input, FlameGraphWeight weight)
    {
        object? stackValue = PropertyValue(input, "Stack");
        if (stackValue is null)
        {
            throw new FlameGraphInputException(ErrorIds.FlameGraphInputHasNoStack,
                "The input object has no Stack property, so it cannot become a flame graph frame.",
                "Pipe MemoryLeak objects (Find-MemoryLeak) or AllocationEvent objects with stacks (Watch-Allocation -IncludeStack).");
        }

        var innermostFirst = new List<FlameFrameName>();
        IEnumerable frames = LanguagePrimitives.GetEnumerable(stackValue) ?? new[] { stackValue };
        foreach (object? frame in frames)
        {
            if (frame is not null) innermostFirst.Add(ReadFrame(frame));
        }
        if (innermostFirst.Count == 0)
        {
            throw new FlameGraphInputException(ErrorIds.FlameGraphInputHasNoStack,
                "The input object's Stack is empty, so it cannot become a flame graph frame.",
                "Check that the tracer captured stacks (Watch-Allocation needs -IncludeStack).");
        }

        long? bytes = ReadCount(input, "Bytes") ?? ReadCount(input, "Size");
        long? count = ReadCount(input, "Count");
        if (weight == FlameGraphWeight.Bytes && bytes is null)
        {
            throw new FlameGraphInputException(ErrorIds.FlameGraphInputHasNoWeight,
                "The input object has neither a Bytes nor a Size property, so its frame width is unknown.",
                "Pipe MemoryLeak or AllocationEvent objects, or use -Weight Count.");
        }

        var outermostFirst = new List<FlameFrameName>(innermostFirst.Count + 1);
        string? root = RootName(input);
        if (root is not null) outermostFirst.Add(FlameFrameName.Process(root));
        for (int i = innermostFirst.Count - 1; i >= 0; i--) outermostFirst.Add(innermostFirst[i]);

        // An AllocationEvent is one allocation and has no Count.
        return new StackSample(outermostFirst, bytes ?? 0, count ?? 1);
    }

    private static FlameFrameName ReadFrame(object frame)
    {
        object baseObject = frame is PSObject pso ? pso.BaseObject : frame;
        if (baseObject is StackFrame typed)
        {
            return Name(typed.Symbol, typed.Module, typed.ModuleOffset, typed.Address, typed.IsKernel, typed.IsTailCall);
        }
        if (baseObject is string text) return new FlameFrameName(FlameFrameName.Sanitize(WithoutOffset(text)), null, FlameFrameKind.User);

        var bag = PSObject.AsPSObject(frame);
        return Name(
            PropertyValue(bag, "Symbol")?.ToString(),
            PropertyValue(bag, "Module")?.ToString(),
            ToUInt64(PropertyValue(bag, "ModuleOffset")),
            ToUInt64(PropertyValue(bag, "Address")),
            PropertyValue(bag, "IsKernel") is object k && LanguagePrimitives.IsTrue(k),
            PropertyValue(bag, "IsTailCall") is object t && LanguagePrimitives.IsTrue(t));
    }

    /// <summary>
    /// Frames merge by function, like flamegraph.pl; kernel frames get its "_[k]" suffix, and a function that left
    /// the stack by a tail call keeps its " [tail call]" marker (a frame of its own, apart from its ordinary calls).
    /// </summary>
    private static FlameFrameName Name(string? symbol, string? module, ulong moduleOffset, ulong address, bool isKernel, bool isTailCall)
    {
        string name = !string.IsNullOrEmpty(symbol) ? symbol!
            : !string.IsNullOrEmpty(module) ? $"{module}+0x{moduleOffset:x}"
            : $"0x{address:x}";
        if (isKernel) name += "_[k]";
        if (isTailCall) name += StackFrame.TailCallMarker;
        return new FlameFrameName(FlameFrameName.Sanitize(name), string.IsNullOrEmpty(module) ? null : module,
            isKernel ? FlameFrameKind.Kernel : FlameFrameKind.User);
    }

    /// <summary>
    /// A frame that arrives as text ("main+0x83", StackFrame.ToString) loses its offset, so that one function is
    /// one tower, as it is for typed frames: main+0x83 and main+0x8b are the same function.
    /// </summary>
    private static string WithoutOffset(string frame)
    {
        var match = FrameOffset.Match(frame);
        return match.Success ? frame.Substring(0, match.Index) : frame;
    }

    private static readonly Regex FrameOffset = new(@"(?<=.)\+0x[0-9a-fA-F]+$", RegexOptions.CultureInvariant);

    private static string? RootName(PSObject input)
    {
        string? name = PropertyValue(input, "ProcessName")?.ToString();
        if (!string.IsNullOrEmpty(name)) return name;
        object? pid = PropertyValue(input, "ProcessId");
        return pid is null ? null : $"[pid {Convert.ToString(pid, CultureInfo.InvariantCulture)}]";
    }

    internal static object? PropertyValue(PSObject obj, string name)
    {
        object? value = obj.Properties[name]?.Value;
        return value is PSObject pso && pso.BaseObject is not PSCustomObject ? pso.BaseObject : value;
    }

    private static long? ReadCount(PSObject input, string name)
    {
        object? value = PropertyValue(input, name);
        if (value is null) return null;
        try
        {
            long result = LanguagePrimitives.ConvertTo<long>(value);
            if (result < 0) throw new FlameGraphInputException(ErrorIds.FlameGraphInputHasNoWeight,
                $"The input object's {name} is negative ({result}).", "Pipe MemoryLeak or AllocationEvent objects.");
            return result;
        }
        catch (PSInvalidCastException)
        {
            throw new FlameGraphInputException(ErrorIds.FlameGraphInputHasNoWeight,
                $"The input object's {name} ('{value}') is not a number.", "Pipe MemoryLeak or AllocationEvent objects.");
        }
    }

    private static ulong ToUInt64(object? value)
    {
        if (value is null) return 0;
        try { return LanguagePrimitives.ConvertTo<ulong>(value); }
        catch (PSInvalidCastException) { return 0; }
    }
}
