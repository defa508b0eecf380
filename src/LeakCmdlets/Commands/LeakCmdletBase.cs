using System;
using System.Management.Automation;
using System.Runtime.InteropServices;

namespace LeakTools.Commands;

/// <summary>
/// Common ground for every LeakTools cmdlet: the Linux precondition and one way to report errors,
/// so that every error carries a stable id, a fitting category, the offending value and a remedy.
/// </summary>
public abstract class LeakCmdletBase : PSCmdlet
{
    protected override void BeginProcessing()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            ThrowTerminating(
                new PlatformNotSupportedException("LeakTools reads /proc and loads eBPF programs, so it runs on Linux only."),
                ErrorIds.NotLinux, ErrorCategory.NotImplemented, Environment.OSVersion.Platform,
                "Run this command on a Linux machine, for example through PowerShell remoting over SSH.");
        }
    }

    /// <summary>Builds an ErrorRecord whose details say what to do about it.</summary>
    protected static ErrorRecord NewError(Exception exception, string errorId, ErrorCategory category, object? target, string? recommendedAction)
    {
        var record = new ErrorRecord(exception, errorId, category, target);
        if (!string.IsNullOrEmpty(recommendedAction))
        {
            record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = recommendedAction };
        }
        return record;
    }

    /// <summary>Reports a failure of one input item; the batch goes on.</summary>
    protected void WriteNonTerminatingError(Exception exception, string errorId, ErrorCategory category, object? target, string? recommendedAction = null)
        => WriteError(NewError(exception, errorId, category, target, recommendedAction));

    /// <summary>Stops the command: a precondition that no input can satisfy.</summary>
    protected void ThrowTerminating(Exception exception, string errorId, ErrorCategory category, object? target, string? recommendedAction = null)
        => ThrowTerminatingError(NewError(exception, errorId, category, target, recommendedAction));
}
