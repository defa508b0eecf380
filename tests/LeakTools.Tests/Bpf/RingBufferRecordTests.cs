using System;
using System.Runtime.InteropServices;
using LeakTools.Bpf;
using LeakTools.Interop;
using Xunit;

namespace LeakTools.Tests.Bpf;

/// <summary>
/// The ring-buffer record format read in place, over memory laid out as the kernel lays out a BPF ring buffer
/// (the data area twice in a row, so a record never wraps). The real ring is read by the Watch-Allocation tests.
/// </summary>
public unsafe class RingBufferRecordTests
{
    private const int DataBytes = 256;

    private sealed class FakeRing
    {
        public ulong Consumer;
        public ulong Producer;
        public readonly byte[] Data = new byte[2 * DataBytes];

        /// <summary>
        /// Appends a record as the kernel would (length with flags in the header), mirrored into the second copy;
        /// its 8-byte words count up from <paramref name="firstWord"/>.
        /// </summary>
        public void Append(uint payloadBytes, ulong firstWord, uint flags = 0)
        {
            var record = new byte[(payloadBytes + RingBufferReader.HeaderBytes + 7) & ~7u];
            BitConverter.TryWriteBytes(record.AsSpan(0, 4), payloadBytes | flags);
            for (int w = 0; w < payloadBytes / 8; w++)
                BitConverter.TryWriteBytes(record.AsSpan(RingBufferReader.HeaderBytes + 8 * w, 8), firstWord + (ulong)w);
            for (int i = 0; i < record.Length; i++)
            {
                int at = (int)((Producer + (ulong)i) % DataBytes);
                Data[at] = record[i];
                Data[at + DataBytes] = record[i];
            }
            Producer += (ulong)record.Length;
        }

        public int Read(Span<ulong> destination, out int mismatched)
        {
            fixed (ulong* consumer = &Consumer)
            fixed (ulong* producer = &Producer)
            fixed (byte* data = Data)
                return RingBufferReader.ReadRecords(consumer, producer, data, DataBytes - 1, destination, out mismatched);
        }
    }

    [Fact]
    public void ReadsCommittedRecordsInOrderAndFreesTheirSpace()
    {
        var ring = new FakeRing();
        ring.Append(8, 11);
        ring.Append(8, 22);
        var got = new ulong[4];
        Assert.Equal(2, ring.Read(got, out int mismatched));
        Assert.Equal(new ulong[] { 11, 22 }, got[..2]);
        Assert.Equal(0, mismatched);
        Assert.Equal(ring.Producer, ring.Consumer);
        Assert.Equal(0, ring.Read(got, out _));
    }

    [Fact]
    public void StopsAtARecordStillBeingWrittenAndResumesThereLater()
    {
        var ring = new FakeRing();
        ring.Append(8, 1);
        ulong busyAt = ring.Producer;
        ring.Append(8, 2, RingBufferReader.BusyBit);
        ring.Append(8, 3);
        var got = new ulong[4];
        Assert.Equal(1, ring.Read(got, out _));
        Assert.Equal(busyAt, ring.Consumer);
        ring.Data[busyAt % DataBytes + 3] &= 0x7f;   // submitted: the busy bit (bit 31 of the length) cleared
        Assert.Equal(2, ring.Read(got, out _));
        Assert.Equal(new ulong[] { 2, 3 }, got[..2]);
    }

    [Fact]
    public void TakesEveryItemOfARecordThatHoldsSeveral()
    {
        var ring = new FakeRing();
        ring.Append(24, 10);   // three items: 10, 11, 12
        ring.Append(8, 20);
        var got = new ulong[8];
        Assert.Equal(4, ring.Read(got, out int mismatched));
        Assert.Equal(new ulong[] { 10, 11, 12, 20 }, got[..4]);
        Assert.Equal(0, mismatched);
    }

    [Fact]
    public void LeavesARecordThatDoesNotFitWholeForTheNextRead()
    {
        var ring = new FakeRing();
        ring.Append(8, 1);
        ulong secondAt = ring.Producer;
        ring.Append(24, 10);
        var got = new ulong[2];
        Assert.Equal(1, ring.Read(got, out _));
        Assert.Equal(secondAt, ring.Consumer);
        got = new ulong[3];
        Assert.Equal(3, ring.Read(got, out _));
        Assert.Equal(new ulong[] { 10, 11, 12 }, got);
    }

    [Fact]
    public void SkipsDiscardedRecordsAndCountsRecordsOfAnotherSize()
    {
        var ring = new FakeRing();
        ring.Append(8, 1, RingBufferReader.DiscardBit);
        ring.Append(20, 99);   // no whole number of ulongs: memleak.h and its C# mirror would disagree
        ring.Append(8, 2);
        var got = new ulong[4];
        Assert.Equal(1, ring.Read(got, out int mismatched));
        Assert.Equal(2ul, got[0]);
        Assert.Equal(1, mismatched);
        Assert.Equal(ring.Producer, ring.Consumer);
    }

    [Fact]
    public void TheReaderKeepsCountOfRecordsOfAnotherSizeForTheTracersStatistics()
    {
        var ring = new FakeRing();
        ring.Append(20, 99);   // two records no whole number of ulongs long
        ring.Append(8, 1);
        ring.Append(12, 5);
        // The reader over anonymous memory laid out as the kernel maps a ring: consumer page, producer page, data.
        nuint page = (nuint)Environment.SystemPageSize;
        nuint producerLength = page + 2 * DataBytes;
        const int MapPrivateAnonymous = 0x02 | 0x20;
        IntPtr consumer = LinuxSyscalls.Mmap(IntPtr.Zero, page, LinuxSyscalls.ProtRead | LinuxSyscalls.ProtWrite, MapPrivateAnonymous, -1, 0);
        IntPtr producer = LinuxSyscalls.Mmap(IntPtr.Zero, producerLength, LinuxSyscalls.ProtRead | LinuxSyscalls.ProtWrite, MapPrivateAnonymous, -1, 0);
        Assert.NotEqual(LinuxSyscalls.MapFailed, consumer);
        Assert.NotEqual(LinuxSyscalls.MapFailed, producer);
        Marshal.Copy(ring.Data, 0, producer + (nint)page, ring.Data.Length);
        *(ulong*)producer = ring.Producer;
        using var reader = new RingBufferReader(new RingBufferMapping(consumer, page, producer, producerLength, new BpfObjectHandle()), DataBytes);

        var got = new ulong[4];
        Assert.Equal(1, reader.Read<ulong>(got));
        Assert.Equal(1ul, got[0]);
        Assert.Equal(2, reader.MismatchedRecords);
        Assert.Equal(0, reader.Read<ulong>(got));
        Assert.Equal(2, reader.MismatchedRecords);
    }

    [Fact]
    public void TakesNoMoreThanTheDestinationHoldsAndLeavesTheRestWaiting()
    {
        var ring = new FakeRing();
        for (ulong i = 1; i <= 5; i++) ring.Append(8, i);
        var got = new ulong[2];
        Assert.Equal(2, ring.Read(got, out _));
        Assert.Equal(2, ring.Read(got, out _));
        Assert.Equal(new ulong[] { 3, 4 }, got);
        Assert.Equal(1, ring.Read(got, out _));
        Assert.Equal(5ul, got[0]);
    }

    [Fact]
    public void ReadsARecordThatCrossesTheEndOfTheDataArea()
    {
        var ring = new FakeRing { Consumer = DataBytes - 8, Producer = DataBytes - 8 };
        ring.Append(8, 7);   // header in the last 8 bytes, payload read through the second mapping
        ring.Append(8, 8);
        var got = new ulong[4];
        Assert.Equal(2, ring.Read(got, out _));
        Assert.Equal(new ulong[] { 7, 8 }, got[..2]);
        Assert.Equal(ring.Producer, ring.Consumer);
    }
}
