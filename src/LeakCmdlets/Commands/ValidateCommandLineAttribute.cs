using System;
using System.Management.Automation;

namespace LeakTools.Commands;

/// <summary>
/// A program and its arguments: the program must be named, but an argument may be empty (`-Command ./prog, ''`),
/// as in a shell, so [ValidateNotNullOrEmpty], which rejects every empty element, does not fit.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateCommandLineAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (arguments is not string[] { Length: > 0 } command || string.IsNullOrEmpty(command[0]))
        {
            throw new ValidationMetadataException("Name the program to start first, then its arguments (an argument may be empty), e.g. -Command ./app, --flag, ''.");
        }
        if (Array.IndexOf(command, null) >= 0)
        {
            throw new ValidationMetadataException("An argument of the command is null: give '' for an empty argument.");
        }
    }
}
