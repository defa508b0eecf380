using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;

namespace LeakTools.Commands;

/// <summary>The objects of a PSObject[] input parameter, with collections taken apart.</summary>
internal static class PipelineInput
{
    /// <summary>
    /// An array passed to the parameter whole, or a collection that came back from remoting as one object,
    /// arrives as one PSObject: its elements are the input. Nulls are skipped.
    /// </summary>
    public static IEnumerable<PSObject> Items(PSObject[]? input)
    {
        foreach (PSObject item in input ?? Array.Empty<PSObject>())
        {
            if (item is null) continue;
            if (item.BaseObject is IEnumerable list and not string && item.BaseObject is not IDictionary)
            {
                foreach (object? element in list)
                {
                    if (element is not null) yield return PSObject.AsPSObject(element);
                }
                continue;
            }
            yield return item;
        }
    }
}
