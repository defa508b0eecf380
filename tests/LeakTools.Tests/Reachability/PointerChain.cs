using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using LeakTools.Reachability;
using Xunit;

namespace LeakTools.Tests.Reachability;

/// <summary>A running pointer_chain process and the addresses of its blocks, in the order it made them.</summary>
internal sealed class PointerChain : IDisposable
{
    private readonly Process _process;

    private PointerChain(Process process, List<ulong> addresses)
    {
        _process = process;
        Addresses = addresses;
    }

    public List<ulong> Addresses { get; }

    public int ProcessId => _process.Id;

    public static PointerChain Start(int count)
    {
        string program = Path.Combine(AppContext.BaseDirectory, "pointer_chain");
        Assert.True(File.Exists(program), $"{program} is missing: the test build compiles it.");
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true };
        start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(start)!;
        var addresses = new List<ulong>(count);
        for (string? line = process.StandardOutput.ReadLine(); line != "ready"; line = process.StandardOutput.ReadLine())
        {
            Assert.NotNull(line);
            addresses.Add(ulong.Parse(line.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return new PointerChain(process, addresses);
    }

    /// <summary>The index of the blocks; <paramref name="nodeOf"/> gives each block's place in it, by the order it was made.</summary>
    public BlockIndex Index(ulong blockSize, out int[] nodeOf)
    {
        var index = BlockIndex.Build(Addresses.Select((a, i) => (a, blockSize, (ulong)i)).ToList(), out int[] kept);
        nodeOf = new int[Addresses.Count];
        for (int node = 0; node < kept.Length; node++) nodeOf[kept[node]] = node;
        return index;
    }

    /// <summary>A copy of its memory (it sleeps: nothing changes while it is taken).</summary>
    public MemorySnapshot Snapshot()
    {
        var preparer = new SnapshotPreparer(_process.Id, inBackground: false);
        var snapshot = preparer.Take();
        preparer.Dispose();   // the buffer is freed when the snapshot gives it back
        snapshot.Fill(_process.Id, Array.Empty<ThreadRegisters>(), () => false);
        Assert.Null(snapshot.InconclusiveReason);
        return snapshot;
    }

    public void Dispose()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
