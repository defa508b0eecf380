using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using Xunit;

namespace LeakTools.Tests.Fuzz;

/// <summary>
/// Feeds seeded mutants of one sample to a parser on a worker thread and fails on any outcome other than a
/// result or the parser's documented exception: another exception, one input running longer than
/// <see cref="InputTimeout"/> (a hang), or one input allocating more than its cap (unbounded allocation).
/// A failing input is saved to the temp directory so it can be replayed.
/// </summary>
internal static class MutationRunner
{
    public static readonly TimeSpan InputTimeout = TimeSpan.FromSeconds(5);
    private const int MaxReportedFailures = 8;

    /// <param name="name">The sample's name, for messages and saved inputs.</param>
    /// <param name="parse">Runs the parser (and the lookups over its result) on one mutant.</param>
    /// <param name="documented">True for the exceptions the parser documents for bad input.</param>
    /// <param name="allocationCap">Most bytes one input may allocate.</param>
    public static void Run(string name, byte[] sample, int mutants, int seed, Action<byte[]> parse,
        Func<Exception, bool> documented, long allocationCap, IReadOnlyList<(int Start, int Length)>? hotRanges = null)
    {
        var failures = new List<string>();
        int current = -1;
        long startedAt = Stopwatch.GetTimestamp();
        byte[]? running = null;
        int rejected = 0;
        var worker = new Thread(() =>
        {
            var mutator = new Mutator(seed, hotRanges);
            for (int i = 0; i < mutants && failures.Count < MaxReportedFailures; i++)
            {
                byte[] input = mutator.Mutate(sample);
                // The clock first: the watchdog reads it before the input, so it never pairs an input with an old start.
                Volatile.Write(ref startedAt, Stopwatch.GetTimestamp());
                Volatile.Write(ref current, i);
                Volatile.Write(ref running, input);
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    parse(input);
                }
                catch (Exception e) when (documented(e))
                {
                    rejected++;
                }
                catch (Exception e)
                {
                    failures.Add($"mutant {i}: {e.GetType().Name}: {e.Message} (input saved as {Save(name, i, input)}){Environment.NewLine}{e.StackTrace}");
                    continue;
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                // Once per process the runtime allocates for itself on the way (exception message resources,
                // static tables): only an input that goes over the cap a second time allocates without bound.
                if (allocated > allocationCap) allocated = MeasureAgain(parse, input, documented);
                if (allocated > allocationCap)
                    failures.Add($"mutant {i}: allocated {allocated:N0} bytes, more than the cap of {allocationCap:N0} (input saved as {Save(name, i, input)})");
            }
        }, maxStackSize: 16 * 1024 * 1024) { IsBackground = true, Name = $"mutations of {name}" };
        worker.Start();
        while (!worker.Join(20))
        {
            if (Stopwatch.GetElapsedTime(Volatile.Read(ref startedAt)) > InputTimeout && Volatile.Read(ref running) is { } stuck)
            {
                Assert.Fail($"{name} (seed {seed}): mutant {Volatile.Read(ref current)} still runs after {InputTimeout.TotalSeconds} s: a hang (input saved as {Save(name, current, stuck)}).");
            }
        }
        Assert.True(failures.Count == 0, $"{name} (seed {seed}), {failures.Count} bad outcome(s):{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
        Assert.True(rejected < mutants, $"{name}: every mutant was rejected; the mutations never reach the parser's deeper paths");
    }

    /// <summary>Runs one saved input (a mutant that once failed) under the same checks as <see cref="Run"/>.</summary>
    public static void Replay(string name, byte[] input, Action<byte[]> parse, Func<Exception, bool> documented, long allocationCap)
    {
        string? failure = null;
        var worker = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { parse(input); }
            catch (Exception e) when (documented(e)) { }
            catch (Exception e)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
                return;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > allocationCap) allocated = MeasureAgain(parse, input, documented);
            if (allocated > allocationCap) failure = $"allocated {allocated:N0} bytes, more than the cap of {allocationCap:N0}";
        }, maxStackSize: 16 * 1024 * 1024) { IsBackground = true, Name = $"replay of {name}" };
        worker.Start();
        Assert.True(worker.Join(InputTimeout), $"{name} still runs after {InputTimeout.TotalSeconds} s: a hang.");
        Assert.True(failure is null, $"{name}: {failure}");
    }

    private static long MeasureAgain(Action<byte[]> parse, byte[] input, Func<Exception, bool> documented)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try { parse(input); }
        catch (Exception e) when (documented(e)) { }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static string Save(string name, int index, byte[] input)
    {
        string path = Path.Combine(Path.GetTempPath(), $"leaktools-mutant-{name.Replace('/', '-')}-{index}.bin");
        File.WriteAllBytes(path, input);
        return path;
    }
}
