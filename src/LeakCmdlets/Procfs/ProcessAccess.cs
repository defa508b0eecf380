using System;
using System.IO;

namespace LeakTools.Procfs;

/// <summary>
/// What this session may read of other processes, and why the kernel refused a read: the remedy for a
/// refused /proc/PID/maps (or smaps) depends on who we are, and telling root to become root helps nobody.
/// </summary>
public static class ProcessAccess
{
    /// <summary>This process's effective capabilities (0 when its status cannot be read).</summary>
    public static ulong EffectiveCapabilities() => ReadOwnStatus()?.EffectiveCapabilities ?? 0;

    /// <summary>Whether this process runs as uid 0 (which need not mean it has every capability).</summary>
    public static bool IsRoot() => ReadOwnStatus()?.UserId == 0;

    private static ProcessStatus? ReadOwnStatus()
    {
        try { return ProcessFiles.TryReadStatus(Environment.ProcessId); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcfsFormatException) { return null; }
    }

    /// <summary>
    /// True when the capability checks let this session read any process's memory (CAP_SYS_PTRACE; root
    /// normally has it). Whatever still refuses it is not a matter of privileges.
    /// </summary>
    public static bool MayReadAnyProcess() =>
        IsInInitialUserNamespace() && LinuxCapability.Has(EffectiveCapabilities(), LinuxCapability.SysPtrace);

    /// <summary>
    /// Capabilities count for the processes of one's own user namespace only. The initial namespace maps
    /// every uid to itself ("0 0 4294967295"); a child namespace (unshare --user, rootless containers) maps fewer.
    /// </summary>
    public static bool IsInInitialUserNamespace()
    {
        string? map;
        try { map = ProcessFiles.TryReadText(Environment.ProcessId, "uid_map"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return true; }
        if (map is null) return true;
        var fields = map.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return fields is ["0", "0", "4294967295"];
    }

    /// <summary>
    /// What to do when reading the memory of process <paramref name="pid"/> was refused. Without CAP_SYS_PTRACE:
    /// get it. With it, the refusal comes from something no privilege of ours overrides, and the remedy says what.
    /// </summary>
    public static string DeniedRemedy(int pid)
    {
        if (!IsInInitialUserNamespace())
        {
            return "This session runs in a user namespace, where its root and capabilities count only for the processes of that namespace. " +
                   "Run as the process's owner, or as root (sudo) outside the namespace.";
        }
        ProcessStatus? self = ReadOwnStatus();
        ulong ours = self?.EffectiveCapabilities ?? 0;
        if (!LinuxCapability.Has(ours, LinuxCapability.SysPtrace))
            return "Run as the process's owner, or as root (sudo), or with CAP_SYS_PTRACE.";
        string who = self?.UserId == 0 ? "root with CAP_SYS_PTRACE" : "running with CAP_SYS_PTRACE";
        string extra = "";
        try
        {
            ulong theirs = ProcessFiles.TryReadStatus(pid)?.PermittedCapabilities ?? 0;
            if ((theirs & ~ours) != 0)
                extra = $"; process {pid} also holds capabilities this session lacks ({string.Join(", ", LinuxCapability.Names(theirs & ~ours))})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcfsFormatException)
        {
            // Its status is unreadable too: the remedy below still holds.
        }
        return $"This session is already {who}, so no privilege is missing: a security module or sandbox that confines " +
               $"this session (Landlock, AppArmor, SELinux, Yama ptrace_scope 3) refuses access to process {pid}{extra}. " +
               "Run from outside that confinement (for example on the host instead of inside a container), or leave this process out.";
    }
}
