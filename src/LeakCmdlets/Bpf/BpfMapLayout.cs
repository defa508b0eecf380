using System.Runtime.CompilerServices;

namespace LeakTools.Bpf;

/// <summary>
/// The key and value sizes user space expects of one map, taken from the C# mirrors of its types.
/// <see cref="BpfObject"/> compares them with the sizes the object declares (its BTF) right after open.
/// </summary>
internal readonly record struct BpfMapLayout(string Name, int KeySize, int ValueSize)
{
    public static BpfMapLayout Of<TKey, TValue>(string name) where TKey : unmanaged where TValue : unmanaged
        => new(name, Unsafe.SizeOf<TKey>(), Unsafe.SizeOf<TValue>());
}
