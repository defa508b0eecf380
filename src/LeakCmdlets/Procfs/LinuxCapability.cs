using System.Collections.Generic;

namespace LeakTools.Procfs;

/// <summary>Linux capability numbers (capability.h) and their names, for messages about what a session lacks.</summary>
public static class LinuxCapability
{
    public const int SysPtrace = 19;
    public const int SysAdmin = 21;
    public const int Syslog = 34;
    public const int Perfmon = 38;
    public const int Bpf = 39;

    private static readonly string[] s_names =
    {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    };

    public static bool Has(ulong set, int capability) => (set & (1UL << capability)) != 0;

    /// <summary>"CAP_SYS_PTRACE", or "capability 45" for a number newer than this table.</summary>
    public static string Name(int capability) =>
        capability >= 0 && capability < s_names.Length ? s_names[capability] : $"capability {capability}";

    /// <summary>The names of the capabilities in <paramref name="set"/>, lowest number first.</summary>
    public static IReadOnlyList<string> Names(ulong set)
    {
        var names = new List<string>();
        for (int capability = 0; capability < 64; capability++)
        {
            if (Has(set, capability)) names.Add(Name(capability));
        }
        return names;
    }
}
