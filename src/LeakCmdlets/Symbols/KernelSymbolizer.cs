using System;
using System.Collections.Generic;
using System.IO;
using LeakTools.Model;
using LeakTools.Procfs;

namespace LeakTools.Symbols;

/// <summary>
/// Kernel addresses to names through /proc/kallsyms: text symbols sorted by address, looked up by binary
/// search. Symbols of loadable modules carry the module name ("[nf_tables]"), vmlinux symbols "[kernel]".
/// </summary>
public sealed class KernelSymbolizer
{
    public const string KernelModuleName = "[kernel]";
    public const string KallsymsPath = "/proc/kallsyms";

    // kallsyms has no sizes: past this distance from the nearest symbol an address is not attributed to it.
    private const ulong MaxSymbolSpan = 1UL << 20;

    private static readonly object s_cacheGate = new();
    private static (string Modules, KernelSymbolizer Symbolizer)? s_cached;

    private readonly ulong[] _addresses;
    private readonly string[] _names;
    private readonly string?[] _modules;
    private readonly ulong _textStart;

    private KernelSymbolizer(ulong[] addresses, string[] names, string?[] modules, ulong textStart)
    {
        _addresses = addresses;
        _names = names;
        _modules = modules;
        _textStart = textStart;
    }

    /// <summary>Number of text symbols loaded.</summary>
    public int Count => _addresses.Length;

    /// <summary>
    /// Reads /proc/kallsyms. The parsed table is reused while /proc/modules is unchanged, so repeated runs are warm.
    /// Throws <see cref="UnauthorizedAccessException"/> when kptr_restrict hides the addresses.
    /// </summary>
    public static KernelSymbolizer Load()
    {
        string modules = File.Exists("/proc/modules") ? File.ReadAllText("/proc/modules") : string.Empty;
        lock (s_cacheGate)
        {
            if (s_cached is { } cached && cached.Modules == modules) return cached.Symbolizer;
        }
        KernelSymbolizer symbolizer;
        using (var reader = new StreamReader(KallsymsPath))
            symbolizer = Parse(reader);
        if (symbolizer.Count == 0)
            throw new UnauthorizedAccessException($"{KallsymsPath} shows no kernel addresses to this session: it needs CAP_SYSLOG (kernel.kptr_restrict is {ReadKptrRestrict()}).");
        lock (s_cacheGate) s_cached = (modules, symbolizer);
        return symbolizer;
    }

    /// <summary>
    /// Whether /proc/kallsyms shows this session real addresses. The kernel decides when the file is opened
    /// (CAP_SYSLOG, kernel.kptr_restrict, perf_event_paranoid) and shows zeros otherwise; the first line tells.
    /// </summary>
    public static bool AddressesVisible()
    {
        try
        {
            using var reader = new StreamReader(KallsymsPath);
            return reader.ReadLine() is { } line && KallsymsLine.TryParse(line, out KallsymsLine first) && first.Address != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>kernel.kptr_restrict (0, 1 or 2), or "unknown" when the sysctl cannot be read.</summary>
    public static string ReadKptrRestrict()
    {
        try { return File.ReadAllText("/proc/sys/kernel/kptr_restrict").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "unknown"; }
    }

    /// <summary>Parses kallsyms text ("ffffffff81000000 T _stext", "ffffffffc0a01000 t nft_do_chain\t[nf_tables]").</summary>
    internal static KernelSymbolizer Parse(TextReader reader)
    {
        var entries = new List<(ulong Address, string Name, string? Module)>();
        ulong textStart = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            // Text only: stacks hold code addresses. Zero addresses are what a session without CAP_SYSLOG sees.
            if (!KallsymsLine.TryParse(line, out KallsymsLine symbol) || symbol.Address == 0 || !symbol.IsText) continue;
            ulong address = symbol.Address;
            string name = symbol.Name.ToString();
            string? module = symbol.Module.IsEmpty ? null : symbol.Module.ToString();
            if (module is null && name is "_text" or "_stext" && (textStart == 0 || address < textStart)) textStart = address;
            entries.Add((address, name, module));
        }
        // Several names can share an address (_stext, _text, __entry_text_start): the one with the fewest
        // leading underscores is the public name; for equals, the earlier line.
        var order = new int[entries.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (x, y) =>
        {
            int c = entries[x].Address.CompareTo(entries[y].Address);
            if (c == 0) c = Underscores(entries[x].Name).CompareTo(Underscores(entries[y].Name));
            return c != 0 ? c : x.CompareTo(y);
        });
        var unique = new List<(ulong Address, string Name, string? Module)>(entries.Count);
        foreach (int i in order)
            if (unique.Count == 0 || unique[^1].Address != entries[i].Address) unique.Add(entries[i]);
        entries = unique;
        var addresses = new ulong[entries.Count];
        var names = new string[entries.Count];
        var modules = new string?[entries.Count];
        for (int i = 0; i < entries.Count; i++) (addresses[i], names[i], modules[i]) = entries[i];
        return new KernelSymbolizer(addresses, names, modules, textStart);
    }

    private static int Underscores(string name)
    {
        int n = 0;
        while (n < name.Length && name[n] == '_') n++;
        return n;
    }

    /// <summary>Symbolizes <paramref name="address"/> as an exact instruction address.</summary>
    public StackFrame Symbolize(ulong address) => Symbolize(address, isReturnAddress: false);

    /// <summary>
    /// A captured kernel stack: the first entry is the instruction pointer, the others are return addresses,
    /// looked up one byte earlier so that a call ending a function keeps its caller's name.
    /// </summary>
    public StackFrame[] SymbolizeStack(IReadOnlyList<ulong> stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var frames = new StackFrame[stack.Count];
        for (int i = 0; i < frames.Length; i++) frames[i] = Symbolize(stack[i], isReturnAddress: i > 0);
        return frames;
    }

    private StackFrame Symbolize(ulong address, bool isReturnAddress)
    {
        var frame = new StackFrame { Address = address, IsKernel = true, Module = KernelModuleName };
        ulong lookup = isReturnAddress && address > 0 ? address - 1 : address;
        int index = Array.BinarySearch(_addresses, lookup);
        if (index < 0) index = ~index - 1;
        if (index >= 0 && lookup - _addresses[index] < MaxSymbolSpan)
        {
            frame.Symbol = _names[index];
            frame.Offset = address - _addresses[index];
            if (_modules[index] is { } module)
            {
                frame.Module = module;
                frame.ModuleOffset = frame.Offset;
                return frame;
            }
        }
        frame.ModuleOffset = _textStart != 0 && address >= _textStart ? address - _textStart : address;
        return frame;
    }
}
