using System;
using System.IO;
using LeakTools.Symbols;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// Where a launched program's image starts running: the ELF entry point (e_entry) of the file the exec maps, as a
/// file offset a uprobe can be attached at. ld.so jumps there once it has mapped the libraries the program needs,
/// before the program's own code runs (see <see cref="TracedTarget.LaunchProcess"/>).
/// </summary>
/// <param name="Path">The file: the program, or the #! interpreter of a script.</param>
/// <param name="FileOffset">e_entry translated through the PT_LOAD segments.</param>
/// <param name="Inode">The file's inode, to tell that the process runs this file after its exec.</param>
internal sealed record ProgramEntry(string Path, ulong FileOffset, ulong Inode)
{
    /// <summary>
    /// The entry of the image an exec of <paramref name="program"/> (an absolute path) maps, or null when that is no
    /// ELF file we can read (a relative #! interpreter, binfmt_misc formats): the caller then goes without.
    /// </summary>
    public static ProgramEntry? Find(string program)
    {
        string image = ExecutableCheck.ReadInterpreter(program) ?? program;
        if (!image.StartsWith('/')) return null;
        try
        {
            using var elf = ElfImage.Open(image);
            if (elf.EntryPoint == 0 || !elf.TryGetFileOffset(elf.EntryPoint, out ulong offset)
                || !FileIdentity.TryGetInode(image, out ulong inode)) return null;
            return new ProgramEntry(image, offset, inode);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
