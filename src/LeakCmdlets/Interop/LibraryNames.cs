namespace LeakTools.Interop;

/// <summary>
/// Logical names used in [LibraryImport]; <see cref="Module.NativeLibraryResolver"/> maps them to
/// versioned sonames so that no -dev package is needed at run time.
/// </summary>
internal static class LibraryNames
{
    public const string Libbpf = "libbpf";
    public const string Libc = "libc";
    public const string LibStdCxx = "libstdc++";

    public const string LibbpfSoname = "libbpf.so.1";
    public const string LibcSoname = "libc.so.6";
    public const string LibStdCxxSoname = "libstdc++.so.6";

    /// <summary>Points at another libbpf build, e.g. a newer one in /usr/local/lib.</summary>
    public const string LibbpfOverrideVariable = "LEAKTOOLS_LIBBPF";
}
