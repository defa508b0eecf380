namespace LeakTools;

/// <summary>
/// Every error id LeakTools raises, in one place. The strings are stable: scripts and tests match them.
/// PowerShell appends the cmdlet's type name, e.g. "NoProcessFoundForGivenId,LeakTools.Commands.GetProcessMemoryCommand".
/// One failure has one id, whichever layer finds it.
/// </summary>
public static class ErrorIds
{
    // The platform.
    public const string NotLinux = "NotLinux";

    // Naming a process (Get-ProcessMemory, Get-ProcessMemoryMap, Compare-ProcessMemoryMap).
    public const string NoProcessFoundForGivenId = "NoProcessFoundForGivenId";
    public const string NoProcessFoundForGivenName = "NoProcessFoundForGivenName";
    public const string ProcessExited = "ProcessExited";
    public const string ProcessAccessDenied = "ProcessAccessDenied";
    /// <summary>A named process is a kernel thread: it has no user memory to show.</summary>
    public const string ProcessIsKernelThread = "ProcessIsKernelThread";
    /// <summary>A named process has exited and waits for its parent to reap it: no memory left.</summary>
    public const string ProcessIsZombie = "ProcessIsZombie";
    public const string NotAMemoryMapping = "NotAMemoryMapping";

    // Reading /proc.
    public const string ProcfsParseFailed = "ProcfsParseFailed";
    public const string ProcfsReadFailed = "ProcfsReadFailed";

    // Export-FlameGraph.
    public const string FlameGraphInputHasNoStack = "FlameGraphInputHasNoStack";
    public const string FlameGraphInputHasNoWeight = "FlameGraphInputHasNoWeight";
    public const string FlameGraphInputEmpty = "FlameGraphInputEmpty";
    public const string FlameGraphPathNotWritable = "FlameGraphPathNotWritable";

    // Compare-MemoryLeak and Export-MemoryProfile.
    /// <summary>An input object is not a MemoryLeak (nor a deserialized one with Stack, Bytes and Count).</summary>
    public const string NotAMemoryLeak = "NotAMemoryLeak";
    public const string MemoryProfileInputEmpty = "MemoryProfileInputEmpty";
    public const string MemoryProfilePathNotWritable = "MemoryProfilePathNotWritable";

    // Find-MemoryLeak and Watch-Allocation: their parameters.
    public const string TraceCommandNotFound = "TraceCommandNotFound";
    /// <summary>A -Command program that exists but cannot be run (the id is the cmdlet's, whoever finds out).</summary>
    public const string CommandNotExecutable = "TraceCommandNotExecutable";
    public const string MinSizeAboveMaxSize = "MinSizeAboveMaxSize";
    public const string ReportCountTooHigh = "ReportCountTooHigh";

    // The tracing engine: the machine and the session (see IsMachineWide).
    public const string MissingCapabilities = "TracerMissingCapabilities";
    public const string NoBtf = "TracerNoKernelBtf";
    public const string NoUprobes = "TracerNoUprobeSupport";
    public const string NoTracepoints = "TracerNoKernelTracepoints";
    /// <summary>libbpf cannot be loaded, or lacks a function LeakTools needs.</summary>
    public const string LibbpfMissing = "TracerLibbpfMissing";
    public const string LoadFailed = "TracerProgramLoadFailed";
    public const string InvalidOptions = "TracerInvalidOptions";

    // The tracing engine: one target.
    public const string LibraryNotFound = "TracerLibraryNotFound";
    public const string LibraryUnreadable = "TracerLibraryUnreadable";
    public const string AllocatorNotFound = "TracerAllocatorFunctionsNotFound";
    public const string TargetNotFound = "TracerTargetNotFound";
    /// <summary>The target exists but the kernel refuses this session access to its memory map.</summary>
    public const string TargetAccessDenied = "TracerTargetAccessDenied";
    public const string TargetIsKernelThread = "TracerTargetIsKernelThread";
    public const string TargetIsZombie = "TracerTargetIsZombie";
    public const string AttachFailed = "TracerAttachFailed";
    public const string LaunchFailed = "TracerLaunchFailed";

    // Find-MemoryLeak -Verdict.
    /// <summary>-Verdict was given with -Kernel: only a process's memory can be scanned.</summary>
    public const string VerdictNeedsProcess = "VerdictNeedsProcess";
    /// <summary>The target is already traced (gdb, strace): it cannot be paused for a verdict.</summary>
    public const string VerdictTargetTraced = "VerdictTargetTraced";
    /// <summary>The pause helper is missing or failed.</summary>
    public const string VerdictPauseFailed = "VerdictPauseFailed";

    /// <summary>
    /// Failures of the machine or the session (privileges, kernel features, libbpf, the BPF program itself):
    /// no other target would fare better, so they end the command. Every other failure is about one target.
    /// </summary>
    public static bool IsMachineWide(string errorId) => errorId is MissingCapabilities or NoBtf or NoUprobes
        or NoTracepoints or LibbpfMissing or LoadFailed;
}
