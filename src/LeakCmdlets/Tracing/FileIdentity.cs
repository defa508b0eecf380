using LeakTools.Interop;

namespace LeakTools.Tracing;

/// <summary>The inode number of a file, which .NET does not expose (statx, so no libc struct stat layout is assumed).</summary>
internal static class FileIdentity
{
    public static bool TryGetInode(string path, out ulong inode)
    {
        if (LinuxSyscalls.Statx(path, StatxBuffer.InodeField, out var buffer) != 0 || (buffer.Mask & StatxBuffer.InodeField) == 0)
        {
            inode = 0;
            return false;
        }
        inode = buffer.Inode;
        return true;
    }
}
