using System;
using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>
/// The C++ runtime's own demangler. NuGet has no maintained Itanium demangler, and libstdc++ is always
/// present where C++ programs run, so its __cxa_demangle is both the most complete and the cheapest choice.
/// </summary>
internal static partial class CxxAbiNative
{
    static CxxAbiNative() => Module.NativeLibraryResolver.EnsureRegistered();

    /// <summary>Status 0: success; the result is malloc'ed and must go back through <see cref="Free"/>.</summary>
    [LibraryImport(LibraryNames.LibStdCxx, EntryPoint = "__cxa_demangle", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr CxaDemangle(string mangledName, IntPtr outputBuffer, IntPtr length, out int status);

    [LibraryImport(LibraryNames.Libc, EntryPoint = "free")]
    internal static partial void Free(IntPtr pointer);
}
