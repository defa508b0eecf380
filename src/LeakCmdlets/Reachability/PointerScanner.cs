using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace LeakTools.Reachability;

/// <summary>
/// The conservative scan: every aligned 8-byte word of a snapshot and every register is a candidate pointer. A
/// word inside a traced block is an edge from that block; every other word (module data, stacks, TLS, untraced
/// heap: blocks allocated before the trace are unknown, so they count as roots) is a root.
/// One pitfall is discounted: glibc's free lists (bins in main_arena, fd/bk of free chunks) point at chunk
/// headers, and the header of the chunk after block A lies inside A's last 16 bytes, so a leaked A with a freed
/// neighbour would look possibly lost. A word equal to a block's next-chunk header address is not a pointer into it.
/// </summary>
public static class PointerScanner
{
    /// <summary>A copy smaller than this is scanned in one part: a thread costs more than the scan saves.</summary>
    private const long PartBytes = 64L << 20;

    /// <param name="keepReferrers">Whether the graph notes a referrer per block (<see cref="BlockGraph.Referrers"/>).</param>
    /// <param name="parts">Into how many parts to split the scan, each on a thread of its own (0: one per CPU,
    /// for a large copy without referrers; at most one per 64 MiB).</param>
    public static BlockGraph Scan(BlockIndex index, MemorySnapshot snapshot, IReadOnlyList<ThreadRegisters> threads,
        bool glibcChunks = true, bool keepReferrers = true, int parts = 0)
    {
        long bytes = 0;
        foreach (var range in snapshot.Ranges) bytes += range.Length;
        if (parts <= 0) parts = keepReferrers ? 1 : (int)Math.Clamp(Math.Min(Environment.ProcessorCount, bytes / PartBytes), 1, 64);
        if (keepReferrers && parts > 1) throw new ArgumentException("A scan that keeps referrers runs in one part.", nameof(parts));

        var splits = Split(index, snapshot, parts);
        var boundaries = new int[splits.Count];
        // Part k takes the edges of the blocks that end after its first word (the blocks before the copy's first
        // word have none), up to those of the next part.
        for (int k = 1; k < splits.Count; k++) boundaries[k] = k == splits.Count - 1 ? index.Count : index.FirstEndingAfter(Location(snapshot, splits[k]));
        var builders = parts == 1
            ? new[] { new BlockGraph.Builder(index.Count, index.Size, keepReferrers) }
            : BlockGraph.Builder.ForParts(index.Count, index.Size, boundaries);

        var registers = new WordScan(index, builders[0], glibcChunks);
        foreach (var thread in threads)
        {
            foreach (ulong word in thread.Words) registers.Root(word, BlockGraph.InRegister);
        }
        if (parts == 1) ScanPart(index, snapshot, splits[0], splits[1], builders[0], glibcChunks);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts },
            k => ScanPart(index, snapshot, splits[k], splits[k + 1], builders[k], glibcChunks));
        return BlockGraph.Builder.Merge(builders);
    }

    // A place in the copy: a range and a word in it.
    private readonly record struct WordAt(int Range, int Word);

    private static ulong Location(MemorySnapshot snapshot, WordAt at) =>
        at.Range < snapshot.Ranges.Count ? snapshot.Ranges[at.Range].Address + (ulong)at.Word * 8 : ulong.MaxValue;

    /// <summary>
    /// Where each of <paramref name="parts"/> parts of the copy begins, about as many words each, plus its end: a
    /// split inside a block moves to the block's end, so that every block's words are in one part.
    /// </summary>
    private static List<WordAt> Split(BlockIndex index, MemorySnapshot snapshot, int parts)
    {
        var ranges = snapshot.Ranges;
        long total = 0;
        foreach (var range in ranges) total += range.Length / 8;
        var splits = new List<WordAt> { new(0, 0) };
        int r = 0;
        long before = 0;   // the words of the ranges before r
        for (int k = 1; k < parts; k++)
        {
            long goal = total * k / parts;
            while (r < ranges.Count && before + ranges[r].Length / 8 <= goal) before += ranges[r++].Length / 8;
            if (r == ranges.Count) break;
            int word = (int)(goal - before);
            int block = index.Find(ranges[r].Address + (ulong)word * 8);
            if (block >= 0) word = WordIndex(ranges[r], index.End(block), ranges[r].Length / 8);
            var split = word >= ranges[r].Length / 8 ? new WordAt(r + 1, 0) : new WordAt(r, word);
            if (split.Range > splits[^1].Range || (split.Range == splits[^1].Range && split.Word > splits[^1].Word)) splits.Add(split);
        }
        splits.Add(new WordAt(ranges.Count, 0));
        // Splits that met (a block spanning them, or ranges too few) leave fewer parts: the rest are empty ones at the
        // end, so that there are as many as asked.
        while (splits.Count - 1 < parts) splits.Insert(splits.Count - 1, splits[^1]);
        return splits;
    }

    private static void ScanPart(BlockIndex index, MemorySnapshot snapshot, WordAt from, WordAt to, BlockGraph.Builder builder, bool glibcChunks)
    {
        var scan = new WordScan(index, builder, glibcChunks);
        int cursor = index.FirstEndingAfter(Location(snapshot, from));   // the first block that ends after the word being looked at
        for (int r = from.Range; r < snapshot.Ranges.Count && (r < to.Range || (r == to.Range && to.Word > 0)); r++)
        {
            var range = snapshot.Ranges[r];
            var words = MemoryMarshal.Cast<byte, ulong>(snapshot.Bytes(range));
            int at = r == from.Range ? from.Word : 0;
            int stop = r == to.Range ? to.Word : words.Length;
            while (at < stop)
            {
                ulong location = range.Address + (ulong)at * 8;
                while (cursor < index.Count && index.End(cursor) <= location) cursor++;
                if (cursor < index.Count && index.Start(cursor) <= location)
                {
                    int end = Math.Min(stop, WordIndex(range, index.End(cursor), words.Length));
                    scan.Block(cursor, words[at..end], location);
                    at = end;
                }
                else
                {
                    int end = Math.Min(stop, cursor < index.Count ? WordIndex(range, index.Start(cursor), words.Length) : words.Length);
                    scan.Roots(words[at..end], location);
                    at = end;
                }
            }
        }
    }

    /// <summary>
    /// Where the chunk after a glibc malloc block of <paramref name="size"/> bytes at <paramref name="address"/>
    /// starts: chunks are the request plus an 8-byte size field, rounded up to 16, at least 32, and a block's
    /// chunk starts 16 bytes before it.
    /// </summary>
    public static ulong GlibcNextChunk(ulong address, ulong size) => address - 16 + Math.Max(32, (size + 8 + 15) & ~15UL);

    // The index of the first word at or after address (within the range), capped at the range's word count.
    private static int WordIndex(in CopiedRange range, ulong address, int wordCount) =>
        address <= range.Address ? 0 : (int)Math.Min((ulong)wordCount, (address - range.Address + 7) / 8);

    private readonly ref struct WordScan
    {
        private readonly BlockIndex _index;
        private readonly BlockGraph.Builder _builder;
        private readonly bool _glibcChunks;

        public WordScan(BlockIndex index, BlockGraph.Builder builder, bool glibcChunks)
        {
            _index = index;
            _builder = builder;
            _glibcChunks = glibcChunks;
        }

        public void Root(ulong word, ulong location)
        {
            int target = Target(word);
            if (target >= 0) _builder.AddRoot(target, word - _index.Start(target), location);
        }

        public void Roots(ReadOnlySpan<ulong> words, ulong location)
        {
            for (int i = 0; i < words.Length; i++)
            {
                int target = Target(words[i]);
                if (target >= 0) _builder.AddRoot(target, words[i] - _index.Start(target), location + (ulong)i * 8);
            }
        }

        public void Block(int source, ReadOnlySpan<ulong> words, ulong location)
        {
            for (int i = 0; i < words.Length; i++)
            {
                int target = Target(words[i]);
                if (target >= 0) _builder.AddEdge(source, target, words[i] - _index.Start(target), location + (ulong)i * 8);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int Target(ulong word) => _index.InBounds(word) ? Lookup(word) : -1;

        private int Lookup(ulong word)
        {
            int target = _index.Find(word);
            if (target < 0) return -1;
            ulong start = _index.Start(target);
            // Computed on a hit only: most words hit nothing, and an array of next chunks is one more to touch.
            return _glibcChunks && word != start && word == GlibcNextChunk(start, _index.Size(target)) ? -1 : target;
        }
    }
}
