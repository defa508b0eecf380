using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using LeakTools.Procfs;
using LeakTools.Symbols;

namespace LeakTools.Tracing;

/// <summary>Checks what tracing needs before touching libbpf, so each failure names its remedy.</summary>
internal static class TracerPreflight
{
    /// <param name="needsKernelSymbols">Kernel stacks will be named, which needs readable /proc/kallsyms addresses.</param>
    public static void Check(bool kernelMode, bool needsKernelSymbols)
    {
        CheckCapabilities(kernelMode, needsKernelSymbols);
        if (!File.Exists("/sys/kernel/btf/vmlinux"))
        {
            throw new TracerException("This kernel exposes no BTF (/sys/kernel/btf/vmlinux), which the CO-RE eBPF programs need.",
                ErrorIds.NoBtf, ErrorCategory.NotInstalled, "/sys/kernel/btf/vmlinux",
                "Use a kernel built with CONFIG_DEBUG_INFO_BTF=y (the default of current distributions' kernels).");
        }
        if (!kernelMode && !Directory.Exists("/sys/bus/event_source/devices/uprobe"))
        {
            throw new TracerException("This kernel has no uprobe support (/sys/bus/event_source/devices/uprobe is missing).",
                ErrorIds.NoUprobes, ErrorCategory.NotInstalled, "/sys/bus/event_source/devices/uprobe",
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

    private static void CheckCapabilities(bool kernelMode, bool needsKernelSymbols)
    {
        ulong effective = ProcessAccess.EffectiveCapabilities();
        bool Has(int cap) => LinuxCapability.Has(effective, cap);
        var missing = new List<int>();
        if (!Has(LinuxCapability.SysAdmin))
        {
            if (!Has(LinuxCapability.Bpf)) missing.Add(LinuxCapability.Bpf);
            if (!Has(LinuxCapability.Perfmon)) missing.Add(LinuxCapability.Perfmon);
        }
        if (!kernelMode && !Has(LinuxCapability.SysPtrace)) missing.Add(LinuxCapability.SysPtrace);
        // Kernel stacks are named through /proc/kallsyms, which shows zeros instead of addresses to a session
        // without CAP_SYSLOG (unless perf_event_paranoid allows it): ask the file itself, not the capability.
        string why = "Tracing";
        if (needsKernelSymbols && !KernelSymbolizer.AddressesVisible())
        {
            if (Has(LinuxCapability.Syslog))
            {
                throw new TracerException(
                    $"{KernelSymbolizer.KallsymsPath} shows zero addresses even with CAP_SYSLOG (kernel.kptr_restrict is {KernelSymbolizer.ReadKptrRestrict()}), so kernel stacks cannot be named.",
                    ErrorIds.MissingCapabilities, ErrorCategory.PermissionDenied, KernelSymbolizer.KallsymsPath,
                    "Lower kernel.kptr_restrict to 1 (sudo sysctl kernel.kptr_restrict=1), or trace without kernel stacks (Watch-Allocation -Kernel without -IncludeStack).");
            }
            missing.Add(LinuxCapability.Syslog);
            why = $"Tracing with kernel stacks ({KernelSymbolizer.KallsymsPath} shows this session zero addresses without CAP_SYSLOG)";
        }
        if (missing.Count == 0) return;
        var names = missing.ConvertAll(LinuxCapability.Name);
        throw new TracerException(
            $"{why} needs {string.Join(", ", names)}, which this process lacks (effective capabilities 0x{effective:x}).",
            ErrorIds.MissingCapabilities, ErrorCategory.PermissionDenied, string.Join(",", names),
            CapabilityRemedy(missing));
    }

    /// <summary>
    /// Root, or ambient capabilities for this one session. Never file capabilities on pwsh: under `dotnet pwsh`
    /// that file is the shared dotnet host, and every .NET program on the machine would get them.
    /// </summary>
    private static string CapabilityRemedy(List<int> missing)
    {
        var wanted = new List<int> { LinuxCapability.Bpf, LinuxCapability.Perfmon, LinuxCapability.SysPtrace };
        foreach (int capability in missing)
        {
            if (!wanted.Contains(capability)) wanted.Add(capability);
        }
        string setpriv = string.Join(",", wanted.ConvertAll(c => "+" + LinuxCapability.Name(c)[4..].ToLowerInvariant()));
        string systemd = string.Join(" ", wanted.ConvertAll(LinuxCapability.Name));
        // Root without them had them taken away (a reduced bounding set, a container, a systemd unit): "run as root" would not help.
        string root = ProcessAccess.IsRoot()
            ? "This session is root, but its capabilities were reduced (bounding set, container or service settings): start it with them, "
            : "Run PowerShell as root (sudo pwsh), ";
        return root + "or give just this session the capabilities as ambient ones: " +
               $"sudo setpriv --reuid=$(id -u) --regid=$(id -g) --init-groups --inh-caps={setpriv} --ambient-caps={setpriv} pwsh " +
               $"(or capsh --addamb, or a systemd unit with AmbientCapabilities={systemd}). " +
               "Do not setcap the pwsh executable: under 'dotnet pwsh' that file is the shared dotnet host, and every .NET program on the machine would get the capabilities.";
    }
}
