using System;
using System.Collections.Concurrent;
using System.Threading;

namespace LeakTools.Symbols;

/// <summary>
/// Process-wide cache of parsed symbol tables, so a second Find-MemoryLeak in the same session (or a second
/// process using the same libc) reuses them. Keyed by build-id, else by path, size and modification time.
/// </summary>
internal static class SymbolTableCache
{
    // Bounded so a long session over many short-lived binaries cannot grow without limit.
    private const int MaxEntries = 512;
    private static readonly ConcurrentDictionary<string, Lazy<ModuleSymbols>> s_entries = new(StringComparer.Ordinal);

    public static int Count => s_entries.Count;

    public static bool Contains(string key) => s_entries.ContainsKey(key);

    public static ModuleSymbols GetOrAdd(string key, Func<ModuleSymbols> build)
    {
        if (s_entries.TryGetValue(key, out Lazy<ModuleSymbols>? existing)) return existing.Value;
        if (s_entries.Count >= MaxEntries) s_entries.Clear();
        var lazy = s_entries.GetOrAdd(key, _ => new Lazy<ModuleSymbols>(build, LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            s_entries.TryRemove(key, out _); // a read error must not stick for the files' lifetime
            throw;
        }
    }

    public static bool TryGet(string key, out ModuleSymbols? symbols)
    {
        symbols = null;
        if (!s_entries.TryGetValue(key, out Lazy<ModuleSymbols>? lazy) || !lazy.IsValueCreated) return false;
        symbols = lazy.Value;
        return true;
    }

    public static void Clear() => s_entries.Clear();

    /// <summary>
    /// The cache key for a binary and the debug file chosen for it. <paramref name="modulePath"/> is the path as the
    /// target sees it, since the opened path (/proc/PID/map_files/...) differs from process to process.
    /// </summary>
    public static string KeyFor(ElfImage binary, ElfImage? debugFile, string modulePath, bool includeLines = false)
    {
        string debugPart = debugFile is null ? "-" : debugFile.BuildId ?? $"{debugFile.Path}:{debugFile.Length}:{debugFile.LastWriteTimeUtc.Ticks}";
        // A stripped and an unstripped copy share one build-id but not their symbol tables.
        string symtabPart = (binary.HasSymbolTable ? "symtab" : "stripped") + (includeLines ? "+lines" : "");
        return binary.BuildId is { } id
            ? $"build-id:{id}|{symtabPart}|{debugPart}"
            : $"file:{modulePath}:{binary.Length}:{binary.LastWriteTimeUtc.Ticks}|{symtabPart}|{debugPart}";
    }
}
