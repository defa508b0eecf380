using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
    public static BlockGraph Scan(BlockIndex index, MemorySnapshot snapshot, IReadOnlyList<ThreadRegisters> threads, bool glibcChunks = true)
    {
        var sizes = new ulong[index.Count];
        for (int i = 0; i < sizes.Length; i++) sizes[i] = index.Size(i);
        var builder = new BlockGraph.Builder(sizes);
        var scan = new WordScan(index, builder, glibcChunks);
        foreach (var thread in threads)
        {
            foreach (ulong word in thread.Words) scan.Root(word, BlockGraph.InRegister);
        }
        int cursor = 0;   // the first block that ends after the word being looked at
        foreach (var range in snapshot.Ranges)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(snapshot.Bytes(range));
            int at = 0;
            while (at < words.Length)
            {
                ulong location = range.Address + (ulong)at * 8;
                while (cursor < index.Count && index.End(cursor) <= location) cursor++;
                if (cursor < index.Count && index.Start(cursor) <= location)
                {
                    int end = WordIndex(range, index.End(cursor), words.Length);
                    scan.Block(cursor, words[at..end], location);
                    at = end;
                }
                else
                {
                    int end = cursor < index.Count ? WordIndex(range, index.Start(cursor), words.Length) : words.Length;
                    scan.Roots(words[at..end], location);
                    at = end;
                }
            }
        }
        return builder.Build();
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
