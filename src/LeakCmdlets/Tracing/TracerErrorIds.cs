namespace LeakTools.Tracing;

/// <summary>Stable <see cref="TracerException.ErrorId"/> values (cmdlets pass them on as ErrorRecord ids).</summary>
public static class TracerErrorIds
{
    public const string MissingCapabilities = "TracerMissingCapabilities";
    public const string NoBtf = "TracerNoKernelBtf";
    public const string NoUprobes = "TracerNoUprobeSupport";
    public const string NoTracepoints = "TracerNoKernelTracepoints";
    public const string LibbpfMissing = "TracerLibbpfMissing";
    public const string LibraryNotFound = "TracerLibraryNotFound";
    public const string LibraryUnreadable = "TracerLibraryUnreadable";
    public const string AllocatorNotFound = "TracerAllocatorFunctionsNotFound";
    public const string TargetNotFound = "TracerTargetNotFound";
    public const string InvalidOptions = "TracerInvalidOptions";
    public const string LoadFailed = "TracerProgramLoadFailed";
    public const string AttachFailed = "TracerAttachFailed";
    public const string LaunchFailed = "TracerLaunchFailed";
}
