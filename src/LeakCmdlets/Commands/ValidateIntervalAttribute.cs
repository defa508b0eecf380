using System;
using System.Management.Automation;

namespace LeakTools.Commands;

/// <summary>
/// A sampling interval in seconds: finite, above zero, and at most a day. PowerShell turns the exception
/// into a ParameterArgumentValidationError naming the parameter, like any [Validate...] attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateIntervalAttribute : ValidateArgumentsAttribute
{
    public const double MaximumSeconds = 86400;

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        double seconds = arguments switch
        {
            double d => d,
            _ => LanguagePrimitives.ConvertTo<double>(arguments),
        };
        if (double.IsNaN(seconds) || seconds <= 0 || seconds > MaximumSeconds)
        {
            throw new ValidationMetadataException(
                $"The interval {arguments} is not valid: give a number of seconds greater than 0 and at most {MaximumSeconds} (fractions such as 0.5 are allowed).");
        }
    }
}
