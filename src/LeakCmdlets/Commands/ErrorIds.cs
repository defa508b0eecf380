namespace LeakTools.Commands;

/// <summary>
/// Stable error ids. PowerShell appends the cmdlet's type name, so scripts and tests can match
/// e.g. "NoProcessFoundForGivenId,LeakTools.Commands.GetProcessMemoryCommand".
/// </summary>
public static class ErrorIds
{
    public const string NotLinux = "NotLinux";
    public const string NoProcessFoundForGivenId = "NoProcessFoundForGivenId";
    public const string NoProcessFoundForGivenName = "NoProcessFoundForGivenName";
    public const string ProcessExited = "ProcessExited";
    public const string ProcessAccessDenied = "ProcessAccessDenied";
    /// <summary>A named process is a kernel thread: it has no user memory to show.</summary>
    public const string ProcessIsKernelThread = "ProcessIsKernelThread";
    /// <summary>A named process has exited and waits for its parent to reap it: no memory left.</summary>
    public const string ProcessIsZombie = "ProcessIsZombie";
    public const string ProcfsParseFailed = "ProcfsParseFailed";
    public const string ProcfsReadFailed = "ProcfsReadFailed";
    public const string NotAMemoryMapping = "NotAMemoryMapping";

    public const string FlameGraphInputHasNoStack = "FlameGraphInputHasNoStack";
    public const string FlameGraphInputHasNoWeight = "FlameGraphInputHasNoWeight";
    public const string FlameGraphInputEmpty = "FlameGraphInputEmpty";
    public const string FlameGraphPathNotWritable = "FlameGraphPathNotWritable";

    public const string NoTraceTarget = "NoTraceTarget";
    public const string LibbpfMissing = "LibbpfMissing";
    public const string TraceCommandNotFound = "TraceCommandNotFound";
    public const string MinSizeAboveMaxSize = "MinSizeAboveMaxSize";
    public const string ReportCountTooHigh = "ReportCountTooHigh";
}
