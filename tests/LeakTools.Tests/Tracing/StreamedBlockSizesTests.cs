using LeakTools.Tracing;
using Xunit;

namespace LeakTools.Tests.Tracing;

/// <summary>How a stream without the BPF outstanding map gives its frees a size.</summary>
public class StreamedBlockSizesTests
{
    private static AllocationRecord Call(AllocatorFunction function, ulong address, ulong size = 0, ulong previous = 0)
        => new(1, 100, 100, function, address, size, 0, 0x401000, previous);

    [Fact]
    public void AFreeCarriesTheSizeOfTheBlockItFrees()
    {
        var blocks = new StreamedBlockSizes(16);
        blocks.Apply(Call(AllocatorFunction.Malloc, 0x1000, 64));
        Assert.Equal(64ul, blocks.Apply(Call(AllocatorFunction.Free, 0x1000)).Size);
        Assert.Equal(0, blocks.Count);
    }

    [Fact]
    public void AForkedChildsFreeOfAnAddressItsParentAllocatedLeavesTheParentsBlockAlone()
    {
        // In a traced process tree, a child starts with its parent's addresses: 0x1000 names a block in each.
        var blocks = new StreamedBlockSizes(16);
        blocks.Apply(Call(AllocatorFunction.Malloc, 0x1000, 64));
        var childFree = Call(AllocatorFunction.Free, 0x1000) with { ProcessId = 101 };
        Assert.False(blocks.TryApply(childFree, out var applied));
        Assert.Equal(0ul, applied.Size);
        Assert.Equal(64ul, blocks.Apply(Call(AllocatorFunction.Free, 0x1000)).Size);
    }

    [Fact]
    public void AFreeOfABlockTheStreamNeverCarriedHasSizeZero()
    {
        var blocks = new StreamedBlockSizes(16);
        Assert.Equal(0ul, blocks.Apply(Call(AllocatorFunction.Free, 0x2000)).Size);
        Assert.Equal(0ul, blocks.Apply(Call(AllocatorFunction.Munmap, 0x3000)).Size);
    }

    [Fact]
    public void OnlyAReleaseOfABlockTheStreamNeverCarriedIsNotCarried()
    {
        var blocks = new StreamedBlockSizes(16);
        Assert.True(blocks.TryApply(Call(AllocatorFunction.Malloc, 0x1000, 64), out _));
        Assert.True(blocks.TryApply(Call(AllocatorFunction.Free, 0x1000), out var carried));
        Assert.Equal(64ul, carried.Size);
        Assert.False(blocks.TryApply(Call(AllocatorFunction.Free, 0x1000), out var again));
        Assert.Equal(0ul, again.Size);
    }

    [Fact]
    public void AReallocReplacesThePreviousBlock()
    {
        var blocks = new StreamedBlockSizes(16);
        blocks.Apply(Call(AllocatorFunction.Malloc, 0x1000, 100));
        blocks.Apply(Call(AllocatorFunction.Realloc, 0x5000, 1400, previous: 0x1000));
        Assert.Equal(1, blocks.Count);
        Assert.Equal(0ul, blocks.Apply(Call(AllocatorFunction.Free, 0x1000)).Size);
        Assert.Equal(1400ul, blocks.Apply(Call(AllocatorFunction.Free, 0x5000)).Size);
    }

    [Fact]
    public void AReallocInPlaceKeepsTheNewSize()
    {
        var blocks = new StreamedBlockSizes(16);
        blocks.Apply(Call(AllocatorFunction.Malloc, 0x1000, 100));
        blocks.Apply(Call(AllocatorFunction.Realloc, 0x1000, 200, previous: 0x1000));
        Assert.Equal(200ul, blocks.Apply(Call(AllocatorFunction.Free, 0x1000)).Size);
    }

    [Fact]
    public void KernelFreesAreReleasesToo()
    {
        var blocks = new StreamedBlockSizes(16);
        blocks.Apply(Call(AllocatorFunction.Kmalloc, 0xffff0000, 256));
        blocks.Apply(Call(AllocatorFunction.PageAlloc, 0xffffea00, 8192));
        Assert.Equal(256ul, blocks.Apply(Call(AllocatorFunction.Kfree, 0xffff0000)).Size);
        Assert.Equal(8192ul, blocks.Apply(Call(AllocatorFunction.PageFree, 0xffffea00)).Size);
    }

    [Fact]
    public void PastItsCapacityItRemembersNoNewBlocksButKeepsUpdatingKnownOnes()
    {
        var blocks = new StreamedBlockSizes(2);
        blocks.Apply(Call(AllocatorFunction.Malloc, 0x1000, 10));
        blocks.Apply(Call(AllocatorFunction.Malloc, 0x2000, 20));
        blocks.Apply(Call(AllocatorFunction.Malloc, 0x3000, 30));
        Assert.Equal(2, blocks.Count);
        blocks.Apply(Call(AllocatorFunction.Mmap, 0x2000, 4096));   // reused address: updated in place
        Assert.Equal(0ul, blocks.Apply(Call(AllocatorFunction.Free, 0x3000)).Size);
        Assert.Equal(4096ul, blocks.Apply(Call(AllocatorFunction.Munmap, 0x2000)).Size);
    }
}
