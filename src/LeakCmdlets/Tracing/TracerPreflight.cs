using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Management.Automation;

namespace LeakTools.Tracing;

/// <summary>Checks what tracing needs before touching libbpf, so each failure names its remedy.</summary>
internal static class TracerPreflight
{
    private const int CapSysPtrace = 19, CapSysAdmin = 21, CapPerfmon = 38, CapBpf = 39;

    public static void Check(bool kernelMode)
    {
        CheckCapabilities(kernelMode);
        if (!File.Exists("/sys/kernel/btf/vmlinux"))
        {
            throw new TracerException("This kernel exposes no BTF (/sys/kernel/btf/vmlinux), which the CO-RE eBPF programs need.",
                TracerErrorIds.NoBtf, ErrorCategory.NotInstalled, "/sys/kernel/btf/vmlinux",
                "Use a kernel built with CONFIG_DEBUG_INFO_BTF=y (the default of current distributions' kernels).");
        }
        if (!kernelMode && !Directory.Exists("/sys/bus/event_source/devices/uprobe"))
        {
            throw new TracerException("This kernel has no uprobe support (/sys/bus/event_source/devices/uprobe is missing).",
                TracerErrorIds.NoUprobes, ErrorCategory.NotInstalled, "/sys/bus/event_source/devices/uprobe",
                "Use a kernel built with CONFIG_UPROBES=y and CONFIG_UPROBE_EVENTS=y.");
        }
    }

    // The answers are kept; the 5.5 MB of BTF they come from only as long as the GC leaves it (a session asks
    // its handful of names within milliseconds).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> s_btfNames = new();
    private static readonly WeakReference<byte[]> s_vmlinuxBtf = new(Array.Empty<byte>());

    /// <summary>Whether the running kernel's BTF describes tracepoint <paramref name="name"/> (typedef btf_trace_NAME).</summary>
    public static bool KernelHasTracepoint(string name) => KernelBtfHasName("btf_trace_" + name);

    /// <summary>Multi-uprobe links (BPF_TRACE_UPROBE_MULTI, 6.6+): their link type is in the kernel's BTF.</summary>
    public static bool KernelHasUprobeMultiLinks()
        => Environment.GetEnvironmentVariable("LEAKTOOLS_PERF_UPROBES") != "1" && KernelBtfHasName("bpf_uprobe_multi_link");

    private static bool KernelBtfHasName(string name) => s_btfNames.GetOrAdd(name, static n =>
    {
        if (!s_vmlinuxBtf.TryGetTarget(out byte[]? btf) || btf.Length == 0)
        {
            btf = File.ReadAllBytes("/sys/kernel/btf/vmlinux");
            s_vmlinuxBtf.SetTarget(btf);
        }
        byte[] wanted = System.Text.Encoding.ASCII.GetBytes("\0" + n + "\0");
        return btf.AsSpan().IndexOf(wanted) >= 0;
    });

    private static void CheckCapabilities(bool kernelMode)
    {
        ulong effective = ReadEffectiveCapabilities();
        bool Has(int cap) => (effective & (1UL << cap)) != 0;
        var missing = new List<string>();
        if (!Has(CapSysAdmin))
        {
            if (!Has(CapBpf)) missing.Add("CAP_BPF");
            if (!Has(CapPerfmon)) missing.Add("CAP_PERFMON");
        }
        if (!kernelMode && !Has(CapSysPtrace)) missing.Add("CAP_SYS_PTRACE");
        if (missing.Count == 0) return;
        throw new TracerException(
            $"Tracing needs {string.Join(", ", missing)}, which this process lacks (effective capabilities 0x{effective:x}).",
            TracerErrorIds.MissingCapabilities, ErrorCategory.PermissionDenied, string.Join(",", missing),
            "Run PowerShell as root (sudo pwsh), or grant the capabilities: sudo setcap cap_bpf,cap_perfmon,cap_sys_ptrace+ep <pwsh>.");
    }

    private static ulong ReadEffectiveCapabilities()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
