using System;
using System.Globalization;
using System.Management.Automation;

namespace LeakTools.Commands;

/// <summary>
/// A time in seconds (a number, or a TimeSpan after <see cref="SecondsTransformationAttribute"/>): finite, above
/// zero, and at most <see cref="MaximumSeconds"/> (a day unless set). PowerShell turns the exception into a
/// ParameterArgumentValidationError naming the parameter, like any [Validate...] attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateIntervalAttribute : ValidateArgumentsAttribute
{
    public const double DefaultMaximumSeconds = 86400;

    /// <summary>The longest time accepted, in seconds.</summary>
    public double MaximumSeconds { get; set; } = DefaultMaximumSeconds;

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        double seconds = arguments switch
        {
            double d => d,
            TimeSpan span => span.TotalSeconds,
            _ => LanguagePrimitives.ConvertTo<double>(arguments),
        };
        if (double.IsNaN(seconds) || seconds <= 0 || seconds > MaximumSeconds)
        {
            string given = arguments is TimeSpan ? seconds.ToString(CultureInfo.InvariantCulture) + " s" : $"{arguments}";
            throw new ValidationMetadataException(
                $"The time {given} is not valid: give a number of seconds greater than 0 and at most {MaximumSeconds.ToString(CultureInfo.InvariantCulture)} (fractions such as 0.5 are allowed).");
        }
    }
}
