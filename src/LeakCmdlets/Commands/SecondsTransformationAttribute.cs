using System;
using System.Globalization;
using System.Management.Automation;

namespace LeakTools.Commands;

/// <summary>
/// Lets a TimeSpan parameter take plain numbers as seconds (-Duration 5, -OlderThan 0.5), as well as
/// TimeSpan objects and strings such as "00:01:30". Without it PowerShell would read 5 as five ticks.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecondsTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        switch (value)
        {
            case TimeSpan:
                return value;
            case int or long or double or float or decimal or uint or ulong or short or byte:
                return FromSeconds(Convert.ToDouble(value, CultureInfo.InvariantCulture));
            case string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds):
                return FromSeconds(seconds);
            case string text when TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span):
                return span;
            default:
                throw new ArgumentTransformationMetadataException(
                    $"Cannot convert '{value}' to a time span. Give seconds (5, 0.5) or a TimeSpan ('00:01:30').");
        }
    }

    private static TimeSpan FromSeconds(double seconds)
    {
        if (double.IsNaN(seconds) || seconds < 0 || seconds > TimeSpan.MaxValue.TotalSeconds)
            throw new ArgumentTransformationMetadataException($"{seconds} is not a valid number of seconds.");
        return TimeSpan.FromSeconds(seconds);
    }
}
