using System;
using System.Collections.Generic;
using LeakTools.Bpf;
using Xunit;

namespace LeakTools.Tests.Bpf;

/// <summary>
/// The batched read of a real BPF hash map (memleak's "outstanding"), whose lookups run on a worker while the
/// handler takes the batch before: every entry once, batch after batch, and a handler that throws stops the read
/// cleanly (the map reads again afterwards).
/// </summary>
public class BpfHashMapReadTests
{
    private const int Entries = 10_000;

    [Fact]
    public void ReadsEveryEntryOnceAcrossManyBatches()
    {
        using var bpf = MemleakTestObject.Load();
        var map = Fill(bpf);
        var seen = new HashSet<ulong>();
        int batches = 0;
        map.ReadAll(64, (keys, values) =>
        {
            batches++;
            for (int i = 0; i < keys.Length; i++)
            {
                Assert.True(seen.Add(keys[i].Address), $"0x{keys[i].Address:x} seen twice");
                Assert.Equal(keys[i].Address / 16, values[i].Size);   // each value still belongs to its key
            }
        });
        Assert.Equal(Entries, seen.Count);
        Assert.True(batches >= Entries / 64, $"{batches} batches");
    }

    [Fact]
    public void AHandlerThatThrowsEndsTheReadAndTheMapReadsAgain()
    {
        using var bpf = MemleakTestObject.Load();
        var map = Fill(bpf);
        int batches = 0;
        var thrown = Assert.Throws<InvalidOperationException>(() => map.ReadAll(64, (_, _) =>
        {
            if (++batches == 3) throw new InvalidOperationException("handler");
        }));
        Assert.Equal("handler", thrown.Message);
        int count = 0;
        map.ReadAll(64, (keys, _) => count += keys.Length);
        Assert.Equal(Entries, count);
    }

    private static BpfHashMap<MemleakAbi.AllocKey, MemleakAbi.AllocInfo> Fill(BpfObject bpf)
    {
        var map = bpf.HashMap<MemleakAbi.AllocKey, MemleakAbi.AllocInfo>("outstanding");
        for (ulong i = 1; i <= Entries; i++)
        {
            ulong address = 0x10_0000 + i * 64;
            map.Update(new MemleakAbi.AllocKey { Address = address, Tgid = 1, Image = 1 }, new MemleakAbi.AllocInfo { Size = address / 16 });
        }
        return map;
    }
}
