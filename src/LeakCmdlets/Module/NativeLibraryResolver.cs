using System;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;
using LeakTools.Interop;

namespace LeakTools.Module;

/// <summary>
/// Resolves native libraries by versioned soname when the module is imported. Resolution is lazy:
/// a missing libbpf becomes a clear error the first time a tracing cmdlet needs it, never a broken Import-Module.
/// </summary>
public sealed class NativeLibraryResolver : IModuleAssemblyInitializer
{
    private static int s_registered;

    public void OnImport() => EnsureRegistered();

    /// <summary>Idempotent; interop classes call it too, so the mapping also holds outside PowerShell (unit tests).</summary>
    public static void EnsureRegistered()
    {
        if (System.Threading.Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string? soname = libraryName switch
        {
            LibraryNames.Libbpf => Environment.GetEnvironmentVariable(LibraryNames.LibbpfOverrideVariable) is { Length: > 0 } custom
                ? custom : LibraryNames.LibbpfSoname,
            LibraryNames.Libc => LibraryNames.LibcSoname,
            LibraryNames.LibStdCxx => LibraryNames.LibStdCxxSoname,
            _ => null,
        };
        if (soname is null) return IntPtr.Zero;
        return NativeLibrary.TryLoad(soname, assembly, searchPath, out IntPtr handle) ? handle : IntPtr.Zero;
    }
}
