using System.Runtime.InteropServices;
using LeakTools.Interop;
using LeakTools.Module;

namespace LeakTools.Tracing;

/// <summary>stat(2) for the inode number, which .NET does not expose.</summary>
internal static unsafe partial class FileIdentity
{
    static FileIdentity() => NativeLibraryResolver.EnsureRegistered();

    [LibraryImport(LibraryNames.Libc, EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte* buffer);

    public static bool TryGetInode(string path, out ulong inode)
    {
        byte* buffer = stackalloc byte[256];   // struct stat is 144 bytes on x86-64
        if (Stat(path, buffer) != 0) { inode = 0; return false; }
        inode = *(ulong*)(buffer + 8);          // st_ino follows st_dev
        return true;
    }
}
