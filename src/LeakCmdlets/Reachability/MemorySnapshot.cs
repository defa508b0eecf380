using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using LeakTools.Interop;
using LeakTools.Model;
using LeakTools.Procfs;

namespace LeakTools.Reachability;

/// <summary>
/// A copy of every part of a stopped process's memory that can hold a pointer to a heap block: all of its readable
/// and writable memory (module data, stacks from the stack pointer down to the red zone, TLS, heaps, anonymous
/// mappings) that has pages at all. Taken while the target is stopped, scanned after it runs again.
/// Left out: device mappings (VM_IO, VM_PFNMAP, /dev/*), [vvar]; a userfaultfd range is left out too and makes
/// the snapshot inconclusive (reading a missing page there would wait for the target's own fault handler).
/// </summary>
public sealed unsafe class MemorySnapshot : IDisposable
{
    /// <summary>The x86-64 System V red zone: a leaf function may keep data this far below the stack pointer.</summary>
    public const ulong RedZone = 128;

    private const int LargestRange = 1 << 30;           // a span stays within int.MaxValue
    private const ulong BatchBytes = 64UL << 20;          // one process_vm_readv call, between two stop checks
    private const int BatchVectors = 1024;                // IOV_MAX

    private SnapshotBuffer? _lent;    // a preparer's, given back on Dispose
    private Action? _giveBack;
    private SnapshotBuffer? _owned;   // mapped in the pause when the target outgrew the lent one
    private SnapshotBuffer? _buffer;  // the one copied into
    private readonly List<CopiedRange> _ranges = new();

    private MemorySnapshot() { }

    /// <summary>The copied runs, by address, none overlapping.</summary>
    public IReadOnlyList<CopiedRange> Ranges => _ranges;

    /// <summary>Why a verdict from this copy cannot be trusted (null when it can).</summary>
    public string? InconclusiveReason { get; private set; }

    public ulong BytesCopied { get; private set; }

    /// <summary>Pages of chosen ranges that could not be read (copied as zeros).</summary>
    public long UnreadablePages { get; private set; }

    public TimeSpan CopyTime { get; private set; }

    internal void MarkInconclusive(string reason) => InconclusiveReason ??= reason;

    public ReadOnlySpan<byte> Bytes(in CopiedRange range) => new(_buffer!.Start + range.Offset, range.Length);

    /// <summary>
    /// A snapshot to be taken, to copy into <paramref name="buffer"/> (prepared by a <see cref="SnapshotPreparer"/>
    /// while the target ran: process_vm_readv into memory nobody touched before copied 180 MiB/s on this project's
    /// VM, against 4.4 GiB/s into prefaulted memory, and all of that time was spent with the target stopped).
    /// The buffer is borrowed: <paramref name="giveBack"/> is called on <see cref="Dispose"/>.
    /// </summary>
    internal static MemorySnapshot Over(SnapshotBuffer? buffer, Action giveBack) => new() { _lent = buffer, _giveBack = giveBack };

    /// <summary>Copies the memory of stopped <paramref name="processId"/> into this snapshot (once).</summary>
    public void Fill(int processId, IReadOnlyList<ThreadRegisters> threads, Func<bool> stopRequested)
    {
        var watch = Stopwatch.StartNew();
        var chosen = ChooseRanges(processId, threads);
        var present = PresentRuns(processId, chosen);
        Copy(processId, present, stopRequested);
        CopyTime = watch.Elapsed;
    }

    /// <summary>What the ranges a snapshot copies hold in pages now (resident or swapped), from smaps.</summary>
    internal static ulong EstimateBytes(int processId)
    {
        using var text = ProcessFiles.TryOpenText(processId, "smaps");
        if (text is null) return 0;
        var reader = new SmapsReader(text, "smaps");
        ulong bytes = 0;
        while (reader.TryReadNext(out var mapping))
        {
            if (IsCopied(mapping, out _)) bytes += (ulong)Math.Max(0L, (mapping.Rss ?? 0) + (mapping.Swap ?? 0));   // bytes
        }
        return bytes;
    }

    /// <summary>
    /// The buffer to copy <paramref name="bytes"/> into: the lent one when it is large enough (not prefaulted any
    /// further here: in the pause that would be two extra passes over memory the copy is about to write), else one
    /// mapped now. False when none can be had.
    /// </summary>
    private bool TryReserve(ulong bytes)
    {
        if (_lent is not null && bytes <= _lent.Capacity)
        {
            _buffer = _lent;
            return true;
        }
        try
        {
            _owned = SnapshotBuffer.Allocate(bytes, reserveMachine: false);
            _buffer = _owned;
            return true;
        }
        catch (OutOfMemoryException ex)
        {
            InconclusiveReason ??= ex.Message;
            return false;
        }
    }

    /// <summary>The ranges worth copying, as (start, end, whether its pages were counted present by smaps).</summary>
    private List<(ulong Start, ulong End, bool HasPages)> ChooseRanges(int processId, IReadOnlyList<ThreadRegisters> threads)
    {
        var result = new List<(ulong, ulong, bool)>();
        using var text = ProcessFiles.TryOpenText(processId, "smaps")
            ?? throw new TargetPauseException(PauseFailure.TargetGone, $"Process {processId} exited.");
        var reader = new SmapsReader(text, "smaps");
        MemoryMapping? previous = null;
        while (reader.TryReadNext(out var mapping))
        {
            var before = previous;
            previous = mapping;
            if (!IsCopied(mapping, out string? skippedBecause))
            {
                if (skippedBecause is not null) InconclusiveReason ??= skippedBecause;
                continue;
            }
            ulong start = mapping.Start;
            if (IsStack(mapping, before))
            {
                // Below the stack pointer (less the red zone) is dead: old frames would only hide leaks.
                foreach (var thread in threads)
                {
                    if (thread.StackPointer < mapping.Start || thread.StackPointer >= mapping.End) continue;
                    start = Math.Max(start, (thread.StackPointer - Math.Min(RedZone, thread.StackPointer)) & ~7UL);
                }
            }
            bool hasPages = (mapping.Rss ?? 1) + (mapping.Swap ?? 0) > 0;
            result.Add((start, mapping.End, hasPages));
        }
        return result;
    }

    /// <summary>
    /// Whether a snapshot copies <paramref name="mapping"/>: readable and writable, and no device, vDSO or
    /// userfaultfd range. A userfaultfd range is left out with a reason: the snapshot is inconclusive without it.
    /// </summary>
    private static bool IsCopied(MemoryMapping mapping, out string? inconclusiveReason)
    {
        inconclusiveReason = null;
        if (mapping.Permissions.Length < 2 || mapping.Permissions[0] != 'r' || mapping.Permissions[1] != 'w') return false;
        string flags = mapping.VmFlags ?? "";
        if (HasFlag(flags, "io") || HasFlag(flags, "pf")) return false;
        if (mapping.Path.StartsWith("/dev/", StringComparison.Ordinal) && !mapping.Path.StartsWith("/dev/zero", StringComparison.Ordinal)) return false;
        if (mapping.Kind is MappingKind.Vvar or MappingKind.Vsyscall or MappingKind.Vdso) return false;
        if (HasFlag(flags, "um") || HasFlag(flags, "uw") || HasFlag(flags, "ui"))
        {
            // Reading a missing page there would wait for the target's own fault handler.
            inconclusiveReason = $"the range 0x{mapping.Start:x}-0x{mapping.End:x} is registered with userfaultfd and was not read";
            return false;
        }
        return true;
    }

    private static bool HasFlag(string flags, string flag)
    {
        for (int i = 0; i + 1 < flags.Length; i += 3)
        {
            if (flags[i] == flag[0] && flags[i + 1] == flag[1]) return true;
        }
        return false;
    }

    /// <summary>The main thread's [stack], or an anonymous mapping right above a guard page (a thread stack).</summary>
    private static bool IsStack(MemoryMapping mapping, MemoryMapping? before) =>
        mapping.Kind == MappingKind.Stack
        || (mapping.Kind == MappingKind.Anonymous && before is not null && before.End == mapping.Start
            && before.Permissions.StartsWith("---", StringComparison.Ordinal));

    /// <summary>
    /// The runs of pages that exist (present or swapped) inside the chosen ranges, through PAGEMAP_SCAN: a 64 GiB
    /// reservation with a few pages touched costs a few runs, not 64 GiB of reads. Without PAGEMAP_SCAN (before
    /// Linux 6.7) every chosen range that has pages at all is read whole.
    /// </summary>
    private static List<(ulong Start, ulong End)> PresentRuns(int processId, List<(ulong Start, ulong End, bool HasPages)> chosen)
    {
        var runs = new List<(ulong, ulong)>();
        int fd = LinuxSyscalls.Open(ProcessDirectory.PathOf(processId, "pagemap"), LinuxSyscalls.OpenReadOnly | LinuxSyscalls.OpenCloseOnExec);
        const int Regions = 4096;
        var regions = new RemoteMemoryCalls.PageRegion[Regions];
        bool scanWorks = fd >= 0;
        try
        {
            foreach (var (start, end, hasPages) in chosen)
            {
                if (!hasPages) continue;
                if (!scanWorks)
                {
                    Append(runs, start, end);
                    continue;
                }
                ulong from = start & ~(ulong)(ProcessFiles.PageSize - 1);
                while (from < end)
                {
                    long found;
                    var argument = new RemoteMemoryCalls.PagemapScanArgument
                    {
                        Size = (ulong)sizeof(RemoteMemoryCalls.PagemapScanArgument),
                        Start = from,
                        End = end,
                        VectorLength = Regions,
                        CategoryAnyOfMask = RemoteMemoryCalls.PageIsPresent | RemoteMemoryCalls.PageIsSwapped,
                        ReturnMask = RemoteMemoryCalls.PageIsPresent | RemoteMemoryCalls.PageIsSwapped,
                    };
                    fixed (RemoteMemoryCalls.PageRegion* vector = regions)
                    {
                        argument.Vector = (ulong)vector;
                        found = RemoteMemoryCalls.Ioctl(fd, RemoteMemoryCalls.PagemapScan, &argument);
                    }
                    if (found < 0)
                    {
                        scanWorks = false;
                        Append(runs, from, end);
                        break;
                    }
                    for (int i = 0; i < found; i++) Append(runs, Math.Max(regions[i].Start, start), regions[i].End);
                    if (argument.WalkEnd <= from) break;
                    from = argument.WalkEnd;
                }
            }
        }
        finally
        {
            if (fd >= 0) LinuxSyscalls.Close(fd);
        }
        return runs;
    }

    private static void Append(List<(ulong Start, ulong End)> runs, ulong start, ulong end)
    {
        if (end <= start) return;
        if (runs.Count > 0 && runs[^1].End == start)
        {
            runs[^1] = (runs[^1].Start, end);
            return;
        }
        runs.Add((start, end));
    }

    private void Copy(int processId, List<(ulong Start, ulong End)> runs, Func<bool> stopRequested)
    {
        ulong total = 0;
        foreach (var (start, end) in runs)
        {
            for (ulong at = start; at < end; at += LargestRange)
            {
                int length = (int)Math.Min(LargestRange, end - at);
                _ranges.Add(new CopiedRange(at, total, length));
                total += (ulong)length;
            }
        }
        if (total == 0) return;
        if (!TryReserve(total))
        {
            _ranges.Clear();
            return;
        }

        var local = stackalloc RemoteMemoryCalls.IoVector[BatchVectors];
        var remote = stackalloc RemoteMemoryCalls.IoVector[BatchVectors];
        int next = 0;
        while (next < _ranges.Count)
        {
            if (stopRequested())
            {
                InconclusiveReason ??= "the scan was stopped before all memory was copied";
                _ranges.RemoveRange(next, _ranges.Count - next);
                return;
            }
            int count = 0;
            ulong bytes = 0;
            while (next + count < _ranges.Count && count < BatchVectors && (count == 0 || bytes < BatchBytes))
            {
                var range = _ranges[next + count];
                local[count] = new RemoteMemoryCalls.IoVector { Base = _buffer!.Start + range.Offset, Length = (nuint)range.Length };
                remote[count] = new RemoteMemoryCalls.IoVector { Base = (void*)range.Address, Length = (nuint)range.Length };
                bytes += (ulong)range.Length;
                count++;
            }
            long copied = RemoteMemoryCalls.ProcessVmReadv(processId, local, (nuint)count, remote, (nuint)count, 0);
            if (copied < 0 && Marshal.GetLastPInvokeError() == (int)Errno.ESRCH)
                throw new TargetPauseException(PauseFailure.TargetGone, $"Process {processId} exited.");
            if (copied < 0) copied = 0;
            BytesCopied += (ulong)copied;
            if ((ulong)copied == bytes)
            {
                next += count;
                continue;
            }
            // Stopped at an unreadable page: skip the whole ranges it did copy, finish the broken one page by page.
            int i = next;
            while ((ulong)copied >= (ulong)_ranges[i].Length)
            {
                copied -= _ranges[i].Length;
                i++;
            }
            CopyByPages(processId, _ranges[i], (int)copied);
            next = i + 1;
        }
    }

    /// <summary>The rest of a range that process_vm_readv could not copy whole, page by page through /proc/PID/mem.</summary>
    private void CopyByPages(int processId, in CopiedRange range, int done)
    {
        int fd = LinuxSyscalls.Open(ProcessDirectory.PathOf(processId, "mem"), LinuxSyscalls.OpenReadOnly | LinuxSyscalls.OpenCloseOnExec);
        int page = ProcessFiles.PageSize;
        try
        {
            int at = done;
            while (at < range.Length)
            {
                ulong address = range.Address + (ulong)at;
                int length = (int)Math.Min((ulong)(range.Length - at), (ulong)page - (address % (ulong)page));
                byte* into = _buffer!.Start + range.Offset + (ulong)at;
                long read = fd >= 0 ? RemoteMemoryCalls.Pread(fd, into, (nuint)length, (long)address) : -1;
                if (read != length)
                {
                    new Span<byte>(into, length).Clear();
                    UnreadablePages++;
                }
                else
                {
                    BytesCopied += (ulong)length;
                }
                at += length;
            }
        }
        finally
        {
            if (fd >= 0) LinuxSyscalls.Close(fd);
        }
        if (UnreadablePages > 0)
            InconclusiveReason ??= $"{UnreadablePages} page(s) of writable memory could not be read";
    }

    public void Dispose()
    {
        _buffer = null;
        _owned?.Dispose();
        _owned = null;
        _lent = null;
        var giveBack = _giveBack;
        _giveBack = null;
        giveBack?.Invoke();
    }
}
