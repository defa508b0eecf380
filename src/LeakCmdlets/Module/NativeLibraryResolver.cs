using System;
using System.Reflection;
using System.Runtime.InteropServices;
using LeakTools.Interop;

namespace LeakTools.Module;

/// <summary>
/// Maps the logical library names of our [LibraryImport]s to versioned sonames. Resolution is lazy:
/// a missing libbpf becomes a clear error the first time a tracing cmdlet needs it, never a broken Import-Module.
/// Deliberately free of System.Management.Automation types, so unit tests (no PowerShell) can use it too.
/// </summary>
public static class NativeLibraryResolver
{
    private static int s_registered;

    /// <summary>Idempotent; Import-Module and every interop class's static constructor call it.</summary>
    public static void EnsureRegistered()
    {
        if (System.Threading.Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName == LibraryNames.Libbpf
            && Environment.GetEnvironmentVariable(LibraryNames.LibbpfOverrideVariable) is { Length: > 0 } custom)
        {
            // An explicit choice that fails must say so, not fall back silently to whatever libbpf the system has.
            if (NativeLibrary.TryLoad(custom, out IntPtr chosen)) return chosen;
            throw new DllNotFoundException($"{custom} (from {LibraryNames.LibbpfOverrideVariable}) cannot be loaded.");
        }
        string? soname = libraryName switch
        {
            LibraryNames.Libbpf => LibraryNames.LibbpfSoname,
            LibraryNames.Libc => LibraryNames.LibcSoname,
            LibraryNames.LibStdCxx => LibraryNames.LibStdCxxSoname,
            _ => null,
        };
        if (soname is null) return IntPtr.Zero;
        return NativeLibrary.TryLoad(soname, assembly, searchPath, out IntPtr handle) ? handle : IntPtr.Zero;
    }
}
