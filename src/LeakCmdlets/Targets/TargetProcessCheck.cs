using System;
using System.IO;
using System.Management.Automation;
using LeakTools.Procfs;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// Per-target reasons a process cannot be traced, each with its own error id, so that one such process in a
/// batch is one non-terminating error and the others are traced.
/// </summary>
internal static class TargetProcessCheck
{
    /// <summary>The process must exist when the trace starts.</summary>
    public static void ThrowIfNotRunning(int pid)
    {
        if (!ProcessDirectory.Exists(pid))
            throw new TracerException($"No process with id {pid} is running.", ErrorIds.TargetNotFound,
                ErrorCategory.ObjectNotFound, pid, "Check the process id (Get-Process).");
    }

    /// <summary>Kernel threads and zombies have no user memory, hence no allocator: say which, before looking for one.</summary>
    public static void ThrowIfUntraceable(int pid)
    {
        ProcessStat? stat;
        try { stat = ProcessFiles.TryReadStat(pid); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcfsFormatException)
        {
            return;   // reading its maps next gives the fitting error
        }
        if (stat is null)
        {
            throw new TracerException($"No process with id {pid} is running.", ErrorIds.TargetNotFound,
                ErrorCategory.ObjectNotFound, pid, "Check the process id (Get-Process).");
        }
        if (stat.IsKernelThread)
        {
            throw new TracerException(
                $"{stat.DescribeWithoutMemory()} There is no allocator to trace.",
                ErrorIds.TargetIsKernelThread, ErrorCategory.InvalidArgument, pid,
                "Name a user-space process, or trace the kernel's own allocations with -Kernel.");
        }
        if (stat.IsZombie)
        {
            throw new TracerException(
                $"{stat.DescribeWithoutMemory()} There is nothing left to trace.",
                ErrorIds.TargetIsZombie, ErrorCategory.ObjectNotFound, pid,
                $"Trace the program while it runs (-Command starts it under the trace). The zombie goes once process {stat.ParentProcessId} waits for it.");
        }
    }

    /// <summary>The kernel refused to show the target's memory map; the remedy depends on what this session lacks.</summary>
    public static TracerException AccessDenied(int pid, Exception cause) => new(
        $"The kernel refuses access to the memory map of process {pid}: {cause.Message}",
        ErrorIds.TargetAccessDenied, ErrorCategory.PermissionDenied, pid, ProcessAccess.DeniedRemedy(pid), cause);
}
