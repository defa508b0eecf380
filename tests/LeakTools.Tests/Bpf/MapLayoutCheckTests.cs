using System;
using System.IO;
using LeakTools.Bpf;
using LeakTools.Interop;
using Xunit;

namespace LeakTools.Tests.Bpf;

/// <summary>
/// Every map user space reads is checked against its C# mirror right after open, on real eBPF objects opened by
/// the real libbpf: Native/abi_mismatch.bpf.o (built by the test build) declares a shorter "outstanding" value.
/// </summary>
public class MapLayoutCheckTests
{
    [Fact]
    public void AnObjectWhoseMapDeclaresAnotherValueSizeIsRejectedNamingTheMapAndBothSizes()
    {
        byte[] image = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "abi_mismatch.bpf.o"));
        var e = Assert.Throws<BpfOperationException>(() => BpfObject.Open("memleak", image, MemleakAbi.MapLayouts("memleak")).Dispose());
        Assert.Equal(
            "The map 'outstanding' of the eBPF object 'memleak' declares 16-byte keys and 32-byte values, " +
            "but LeakTools reads it with 16-byte keys and 40-byte values: native/memleak.h and Bpf/MemleakAbi.cs disagree.",
            e.Message);
        Assert.Equal((int)Errno.EINVAL, e.Errno);
        Assert.False(e.DuringLoad);
    }

    [Theory]
    [InlineData("memleak")]
    [InlineData("allocount")]
    public void TheEmbeddedObjectsMatchTheirMirrors(string name)
    {
        Assert.NotEmpty(MemleakAbi.MapLayouts(name));
        Assert.Null(Record.Exception(() => BpfObject.OpenEmbedded(name).Dispose()));
    }
}
