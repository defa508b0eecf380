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
    /// <summary>The target exists but the kernel refuses this session access to its memory map.</summary>
    public const string TargetAccessDenied = "TracerTargetAccessDenied";
    public const string TargetIsKernelThread = "TracerTargetIsKernelThread";
    public const string TargetIsZombie = "TracerTargetIsZombie";
    public const string InvalidOptions = "TracerInvalidOptions";
    /// <summary>A -Command program that exists but cannot be run (the id is the cmdlet's, whoever finds out).</summary>
    public const string CommandNotExecutable = "TraceCommandNotExecutable";
    public const string LoadFailed = "TracerProgramLoadFailed";
    public const string AttachFailed = "TracerAttachFailed";
    public const string LaunchFailed = "TracerLaunchFailed";

    /// <summary>
    /// Failures of the machine or the session (privileges, kernel features, libbpf, the BPF program itself):
    /// no other target would fare better, so they end the command. Every other failure is about one target.
    /// </summary>
    public static bool IsMachineWide(string errorId) => errorId is MissingCapabilities or NoBtf or NoUprobes
        or NoTracepoints or LibbpfMissing or LoadFailed;
}
