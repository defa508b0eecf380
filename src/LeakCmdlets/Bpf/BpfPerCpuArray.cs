using System;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>
/// A loaded BPF per-CPU array of 64-bit counters (u32 key, u64 value, checked when
/// <see cref="BpfObject.PerCpuCounters"/> made it), read as one sum over the possible CPUs per key.
/// </summary>
internal sealed unsafe class BpfPerCpuArray
{
    private readonly int _fd;
    private readonly int _cpus;

    public string Name { get; }

    internal BpfPerCpuArray(string name, int fd, int possibleCpus)
    {
        Name = name;
        _fd = fd;
        _cpus = possibleCpus;
    }

    /// <summary>The counters of keys 0 to <paramref name="length"/> - 1, each summed over CPUs (0 for a key that cannot be read).</summary>
    public ulong[] SumOverCpus(int length)
    {
        var sums = new ulong[length];
        var perCpu = new ulong[_cpus];   // the kernel copies one 8-byte-aligned value per possible CPU; ours are exactly 8
        fixed (ulong* values = perCpu)
        {
            for (uint key = 0; key < length; key++)
            {
                uint k = key;
                if (Libbpf.MapLookupElement(_fd, &k, values) != 0) continue;
                ulong sum = 0;
                for (int c = 0; c < _cpus; c++) sum += perCpu[c];
                sums[key] = sum;
            }
        }
        return sums;
    }
}
