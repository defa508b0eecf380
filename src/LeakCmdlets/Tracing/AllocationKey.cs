using LeakTools.Bpf;

namespace LeakTools.Tracing;

/// <summary>The address a key of the "outstanding" map (or a streamed event) stands for.</summary>
internal static class AllocationKey
{
    /// <summary>Kernel mode keeps per-CPU chunks in their own key space; the tag is not part of the address.</summary>
    public static ulong Address(ulong key, bool kernel)
    {
        if (kernel && key >> MemleakAbi.KeyTagShift == MemleakAbi.KeyTagPercpu)
            return key & ((1UL << MemleakAbi.KeyTagShift) - 1);
        return key;
    }
}
