using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using LeakTools.Analysis;
using LeakTools.Model;

namespace LeakTools.Export;

/// <summary>
/// Reads MemoryLeak objects as they arrive: live ones as they are, and ones that lost their type on the way
/// (remoting, Import-Clixml) rebuilt from their properties, so Compare-MemoryLeak and Export-MemoryProfile
/// treat both alike. Frames may be StackFrame objects, property bags, or plain strings ("main+0x1c"),
/// which is what a frame becomes when it was serialized too shallow.
/// </summary>
public static class MemoryLeakReader
{
    // "symbol+0x1c", "module+0x1234" or "0x7f00…": what StackFrame.ToString() writes.
    private static readonly Regex FrameText = new(@"^(?<name>.*?)(?:\+0x(?<offset>[0-9a-fA-F]+))?$", RegexOptions.CultureInvariant);

    /// <summary>The leak, or null with <paramref name="problem"/> saying why the object is not a MemoryLeak.</summary>
    public static MemoryLeakInput? Read(PSObject item, out string? problem)
    {
        problem = null;
        string? computerName = StackSampleReader.PropertyValue(item, "PSComputerName")?.ToString();
        if (item.BaseObject is MemoryLeak live) return new MemoryLeakInput(live, computerName);

        var missing = new List<string>();
        foreach (string name in new[] { "Stack", "Bytes", "Count" })
        {
            if (item.Properties[name] is null) missing.Add(name);
        }
        if (missing.Count > 0)
        {
            problem = $"it has no {string.Join(" or ", missing)} propert{(missing.Count == 1 ? "y" : "ies")}";
            return null;
        }

        var leak = new MemoryLeak();
        try
        {
            leak.Bytes = Get<ulong>(item, "Bytes");
            leak.Count = Get<ulong>(item, "Count");
            leak.ProcessId = Get<int>(item, "ProcessId");
            leak.ProcessName = StackSampleReader.PropertyValue(item, "ProcessName")?.ToString();
            leak.Timestamp = Get<DateTime>(item, "Timestamp");
            leak.TraceDuration = Get<TimeSpan>(item, "TraceDuration");
            leak.OldestAge = Get<TimeSpan>(item, "OldestAge");
            leak.BytesPerSecond = Get<double>(item, "BytesPerSecond");
        }
        catch (PSInvalidCastException ex)
        {
            problem = $"one of its properties has a value of the wrong type ({ex.Message})";
            return null;
        }
        leak.Stack = ReadFrames(StackSampleReader.PropertyValue(item, "Stack"));
        string? text = StackSampleReader.PropertyValue(item, "StackText")?.ToString();
        leak.StackText = string.IsNullOrEmpty(text) ? StackFormatter.Join(leak.Stack) : text!;
        return new MemoryLeakInput(leak, computerName);
    }

    private static StackFrame[] ReadFrames(object? stack)
    {
        if (stack is null) return Array.Empty<StackFrame>();
        IEnumerable frames = LanguagePrimitives.GetEnumerable(stack) ?? new[] { stack };
        var result = new List<StackFrame>();
        foreach (object? frame in frames)
        {
            if (frame is not null) result.Add(ReadFrame(frame));
        }
        return result.ToArray();
    }

    private static StackFrame ReadFrame(object frame)
    {
        object baseObject = frame is PSObject pso ? pso.BaseObject : frame;
        if (baseObject is StackFrame typed) return typed;
        if (baseObject is string text) return ParseFrame(text);

        var bag = PSObject.AsPSObject(frame);
        return new StackFrame
        {
            Address = GetOrDefault<ulong>(bag, "Address"),
            Symbol = NullIfEmpty(StackSampleReader.PropertyValue(bag, "Symbol")?.ToString()),
            Offset = GetOrDefault<ulong>(bag, "Offset"),
            Module = NullIfEmpty(StackSampleReader.PropertyValue(bag, "Module")?.ToString()),
            ModulePath = NullIfEmpty(StackSampleReader.PropertyValue(bag, "ModulePath")?.ToString()),
            ModuleOffset = GetOrDefault<ulong>(bag, "ModuleOffset"),
            File = NullIfEmpty(StackSampleReader.PropertyValue(bag, "File")?.ToString()),
            Line = GetOrDefault<int?>(bag, "Line"),
            IsKernel = StackSampleReader.PropertyValue(bag, "IsKernel") is { } k && LanguagePrimitives.IsTrue(k),
            BuildId = NullIfEmpty(StackSampleReader.PropertyValue(bag, "BuildId")?.ToString()),
        };
    }

    /// <summary>
    /// A frame flattened to its text keeps only a name and an offset: "0x…" is an address, anything else is taken
    /// as a symbol (a module+offset text cannot be told from symbol+offset, and both match only themselves).
    /// </summary>
    internal static StackFrame ParseFrame(string text)
    {
        Match match = FrameText.Match(text.Trim());
        string name = match.Groups["name"].Value;
        ulong offset = match.Groups["offset"].Success
            ? ulong.Parse(match.Groups["offset"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) : 0;
        if (name.Length == 0 && match.Groups["offset"].Success) return new StackFrame { Address = offset };
        if (name.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(name.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong address))
        {
            return new StackFrame { Address = address };
        }
        return new StackFrame { Symbol = name, Offset = offset };
    }

    private static T Get<T>(PSObject item, string name) =>
        StackSampleReader.PropertyValue(item, name) is { } value ? LanguagePrimitives.ConvertTo<T>(value) : default!;

    // A frame's details are best effort: a value of the wrong type leaves that detail unknown.
    private static T GetOrDefault<T>(PSObject item, string name)
    {
        try { return Get<T>(item, name); }
        catch (PSInvalidCastException) { return default!; }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
