using System;
using System.Linq;
using LeakTools.Reachability;
using Xunit;

namespace LeakTools.Tests.Reachability;

public class AddressSortTests
{
    [Theory]
    [InlineData(0x5555_0000_0000UL, 1UL << 20)]            // a heap: packed into one array of words
    [InlineData(0x10UL, 0x0FFF_FFFF_FFFF_FFF0UL)]           // the whole address space: keys with items
    public void SortsAddressesWithThePositionsTheyCameFrom(ulong low, ulong span)
    {
        var random = new Random(5);
        // Positions are a subset of 0..9999 (the lost blocks of a pass, say), in no order.
        int[] positions = Enumerable.Range(0, 10_000).Where(_ => random.Next(3) == 0).OrderBy(_ => random.Next()).ToArray();
        ulong[] addresses = positions.Select(p => low + (ulong)(random.NextDouble() * span) / 16 * 16).ToArray();
        var expected = addresses.Zip(positions).OrderBy(pair => pair.First).ThenBy(pair => pair.Second).ToArray();

        AddressSort.Sort(addresses, positions, positionLimit: 10_000);

        Assert.Equal(expected.Select(pair => pair.First), addresses);
        // Equal addresses may come in either order of position; each position stays with its own address.
        Assert.Equal(expected.OrderBy(pair => pair.Second).Select(pair => pair.Second), positions.OrderBy(p => p));
        for (int k = 0; k < positions.Length; k++)
            Assert.Contains(expected, pair => pair.First == addresses[k] && pair.Second == positions[k]);
    }
}
