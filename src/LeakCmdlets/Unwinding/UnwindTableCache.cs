using System.Collections.Generic;

namespace LeakTools.Unwinding;

/// <summary>
/// Unwind tables built in this PowerShell session, keyed by build-id: a library that many traced processes map
/// (libc, libstdc++) is parsed once per session. Modules without a build-id are not cached. Bounded: past
/// <see cref="MaxRows"/> rows in all, the oldest tables are dropped.
/// </summary>
internal static class UnwindTableCache
{
    /// <summary>About 64 MiB of rows: libLLVM's 840k rows several times over.</summary>
    public const long MaxRows = 8L << 20;

    private static readonly object Gate = new();
    private static readonly Dictionary<string, UnwindTable?> Tables = new();
    private static readonly LinkedList<string> Order = new();
    private static long _rows;

    public static bool TryGet(string buildId, out UnwindTable? table)
    {
        lock (Gate) return Tables.TryGetValue(buildId, out table);
    }

    /// <summary>Keeps <paramref name="table"/> (null: the module has no call frame information) under <paramref name="buildId"/>.</summary>
    public static void Add(string buildId, UnwindTable? table)
    {
        lock (Gate)
        {
            if (!Tables.TryAdd(buildId, table)) return;
            Order.AddLast(buildId);
            _rows += table?.Rows.LongLength ?? 0;
            while (_rows > MaxRows && Order.First is { } oldest && oldest.Value != buildId)
            {
                _rows -= Tables[oldest.Value]?.Rows.LongLength ?? 0;
                Tables.Remove(oldest.Value);
                Order.RemoveFirst();
            }
        }
    }
}
