using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using LeakTools.Procfs;
using LeakTools.Symbols;
using LeakTools.Tracing;

namespace LeakTools.Targets;

/// <summary>
/// Finds the allocator a process's calls bind to, in the dynamic linker's resolution order: the executable itself
/// (a static binary, or a statically linked allocator), then the LD_PRELOAD objects, then the libraries in load
/// order (breadth first along DT_NEEDED, as ld.so builds its global scope), then whatever else is mapped (dlopen).
/// The first object that defines malloc wins. Everything is read as the target sees it (/proc/PID/root,
/// map_files). A command paused before its exec (our launcher) maps nothing of its own yet: its program's list
/// comes from the program's dynamic linker in list mode, in this same namespace and environment.
/// </summary>
internal static class AllocatorResolver
{
    private const ulong AuxEntryPoint = 9;   // AT_ENTRY in /proc/PID/auxv
    private static readonly AllocatorSemantics[] s_mappingSemantics = { AllocatorSemantics.Maps, AllocatorSemantics.Unmaps, AllocatorSemantics.Remaps };

    /// <param name="library">-Library, or null to detect the allocator.</param>
    public static TargetAllocator Resolve(int pid, string? library, string? symbolPrefix, Action<string>? verbose)
    {
        bool launched = LaunchedProgram(pid) is not null;
        List<TargetLibrary> objects = ObjectsInBindingOrder(pid, verbose);
        var images = new Dictionary<TargetLibrary, ElfImage?>();
        try
        {
            string malloc = (symbolPrefix ?? "") + "malloc";
            var definers = new List<TargetLibrary>();
            foreach (TargetLibrary candidate in objects)
            {
                bool defines;
                try { defines = Image(candidate, images).TryFindFunction(malloc, out _); }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    // Before a winner is known, an unreadable object may be the one the calls bind to.
                    if (definers.Count == 0 && IsElfCandidate(candidate)) throw candidate.Unreadable(e);
                    verbose?.Invoke($"Cannot read {candidate.MappedPath} to see whether it defines {malloc}: {e.Message}");
                    continue;
                }
                if (defines) definers.Add(candidate);
            }
            var definerNames = definers.Select(d => Path.GetFileName(d.MappedPath)).ToArray();

            if (library is not null)
            {
                TargetLibrary chosen = TargetLibrary.Resolve(pid, library, objects, definerNames, launched);
                verbose?.Invoke($"Allocator of process {pid}: {chosen.MappedPath}, as -Library names it (opened as {chosen.OpenPath}{(chosen.Mapped ? "" : ", not mapped yet")}).");
                return new TargetAllocator(chosen, new Dictionary<AllocatorFunction, TargetLibrary>(), definerNames, NameOf(chosen, images));
            }
            if (definers.Count == 0) throw NoAllocator(pid, objects, malloc);

            TargetLibrary winner = definers[0];
            verbose?.Invoke(definers.Count == 1
                ? $"Allocator of process {pid}: {winner.MappedPath}, the only object that defines {malloc} (opened as {winner.OpenPath})."
                : $"Allocator of process {pid}: {winner.MappedPath} (opened as {winner.OpenPath}), the first of the objects that define {malloc} in binding order: {string.Join(", ", definerNames)}.");

            // mmap, munmap and mremap bind on their own: libc's under jemalloc, tcmalloc's own mmap under tcmalloc.
            var mapping = new Dictionary<AllocatorFunction, TargetLibrary>();
            foreach (AllocatorProbe probe in AllocatorProbe.UserSpace.Where(p => s_mappingSemantics.Contains(p.Semantics)))
            {
                TargetLibrary? owner = objects.FirstOrDefault(o => TryDefines(o, images, probe.Symbol));
                if (owner is not null && owner != winner)
                {
                    mapping[probe.Function] = owner;
                    verbose?.Invoke($"{probe.Symbol} binds to {owner.MappedPath}, not to the allocator.");
                }
            }
            return new TargetAllocator(winner, mapping, definerNames, NameOf(winner, images));
        }
        finally
        {
            foreach (ElfImage? image in images.Values) image?.Dispose();
        }
    }

    /// <summary>What users know the allocator by: its soname (libtcmalloc_minimal.so.4, not the file .so.4.5.10), else its file name.</summary>
    private static string NameOf(TargetLibrary library, Dictionary<TargetLibrary, ElfImage?> images)
    {
        string fileName = Path.GetFileName(library.MappedPath);
        try { return ElfDynamicSection.Read(Image(library, images)).SharedObjectName is { Length: > 0 } soname ? soname : fileName; }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { return fileName; }
    }

    private static ElfImage Image(TargetLibrary library, Dictionary<TargetLibrary, ElfImage?> images)
    {
        if (images.TryGetValue(library, out ElfImage? image))
            return image ?? throw new InvalidDataException($"'{library.MappedPath}' could not be read.");
        try
        {
            image = ElfImage.Open(library.OpenPath);
            images[library] = image;
            return image;
        }
        catch
        {
            images[library] = null;
            throw;
        }
    }

    private static bool TryDefines(TargetLibrary library, Dictionary<TargetLibrary, ElfImage?> images, string symbol)
    {
        try { return Image(library, images).TryFindFunction(symbol, out _); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Objects .NET, Java and others map that are no ELF code: never the allocator, and no error when unreadable as ELF.</summary>
    private static bool IsElfCandidate(TargetLibrary library)
    {
        string name = Path.GetFileName(library.MappedPath);
        return !name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && !name.EndsWith(".jar", StringComparison.OrdinalIgnoreCase)
            && !name.EndsWith(".so.cache", StringComparison.Ordinal) && !library.MappedPath.StartsWith("/dev/", StringComparison.Ordinal)
            && !library.MappedPath.StartsWith("/memfd:", StringComparison.Ordinal);
    }

    private static TracerException NoAllocator(int pid, List<TargetLibrary> objects, string malloc)
    {
        string executable = objects.Count > 0 ? objects[0].MappedPath : $"process {pid}";
        bool isStatic = objects.Count(IsElfCandidate) <= 1;
        return isStatic
            ? new TracerException(
                $"Process {pid} is statically linked and its executable '{executable}' has no symbol named {malloc} (it is stripped, or its allocator's symbols are prefixed), so there is no allocator to probe.",
                ErrorIds.AllocatorNotFound, ErrorCategory.ObjectNotFound, executable,
                $"Trace a build of '{executable}' that keeps its symbol table (not stripped), or, if its allocator exports prefixed symbols, give -Library '{executable}' -SymbolPrefix <prefix>.")
            : new TracerException(
                $"No object that process {pid} maps defines {malloc}, so there is no allocator to probe.",
                ErrorIds.AllocatorNotFound, ErrorCategory.ObjectNotFound, pid,
                "Name the object that contains the allocator with -Library (a path as the process sees it) and, if its symbols are prefixed, -SymbolPrefix.");
    }

    /// <summary>The mapped objects (or, for a paused launch, the objects its program will map) in the order the dynamic linker binds symbols.</summary>
    private static List<TargetLibrary> ObjectsInBindingOrder(int pid, Action<string>? verbose)
    {
        if (LaunchedProgram(pid) is { } program && ObjectsOfProgram(pid, program, verbose) is { } launched) return launched;

        SymbolizerMapping[] mappings = TargetLibrary.ReadFileMappings(pid);
        var objects = new List<(SymbolizerMapping Mapping, TargetLibrary Library)>();
        foreach (SymbolizerMapping m in mappings)
        {
            if (!m.IsFileBacked || objects.Exists(o => o.Mapping.Path == m.Path && o.Mapping.Inode == m.Inode)) continue;
            objects.Add((m, TargetLibrary.FromMapping(pid, m)));
        }

        var order = new List<TargetLibrary>();
        void Add(TargetLibrary? library)
        {
            if (library is not null && !order.Contains(library)) order.Add(library);
        }

        // The executable: the mapping that holds its entry point (auxv), whatever its path looks like.
        ulong? entry = ReadEntryPoint(pid);
        var exe = objects.FirstOrDefault(o => entry is ulong e && mappings.Any(m => m.Path == o.Mapping.Path && m.Inode == o.Mapping.Inode && e >= m.Start && e < m.End));
        Add(exe.Library ?? (objects.Count > 0 ? objects[0].Library : null));

        // A preload is named as the user wrote it: a path, maybe through a symlink (libtcmalloc.so.4 → .so.4.5.10), or a name.
        foreach (string preload in ReadPreloads(pid))
        {
            ulong? inode = preload.Contains('/') && FileIdentity.TryGetInode(ProcessDirectory.PathOf(pid, "root") + preload, out ulong found) ? found : null;
            Add(objects.FirstOrDefault(o => o.Mapping.Path == preload || o.Mapping.Inode == inode || Path.GetFileName(o.Mapping.Path) == preload).Library);
        }

        // Breadth first along DT_NEEDED from the executable and the preloads, names matched to mapped objects by
        // their soname or file name (the linker found them; we need not search its paths again).
        var sonames = new Dictionary<TargetLibrary, ElfDynamicSection>();
        ElfDynamicSection Dynamic(TargetLibrary library)
        {
            if (sonames.TryGetValue(library, out ElfDynamicSection? known)) return known;
            ElfDynamicSection read;
            try
            {
                using ElfImage image = ElfImage.Open(library.OpenPath);
                read = ElfDynamicSection.Read(image);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                read = new ElfDynamicSection(null, Array.Empty<string>());
            }
            return sonames[library] = read;
        }
        for (int next = 0; next < order.Count; next++)
        {
            foreach (string needed in Dynamic(order[next]).Needed)
            {
                Add(objects.Select(o => o.Library).FirstOrDefault(l => Path.GetFileName(l.MappedPath) == needed)
                    ?? objects.Select(o => o.Library).FirstOrDefault(l => IsElfCandidate(l) && Dynamic(l).SharedObjectName == needed));
            }
        }
        // The rest (the dynamic linker itself, dlopened objects) bind last, if at all.
        foreach (var o in objects) Add(o.Library);
        return order;
    }

    /// <summary>The program a paused launcher (TargetLauncher) will exec, or null when <paramref name="pid"/> is not one.</summary>
    private static string? LaunchedProgram(int pid)
    {
        try
        {
            if (!FileIdentity.TryGetInode(ProcessDirectory.PathOf(pid, "exe"), out ulong exe)
                || !FileIdentity.TryGetInode(TargetLauncher.LauncherPath, out ulong launcher) || exe != launcher) return null;
            string[] argv = File.ReadAllText(ProcessDirectory.PathOf(pid, "cmdline")).Split('\0');
            int separator = Array.IndexOf(argv, "--");
            if (separator < 0 || separator + 1 >= argv.Length || argv[separator + 1].Length == 0) return null;
            string program = argv[separator + 1];
            if (!program.Contains('/')) return ExecutableCheck.FindOnPath(program);
            string cwd = new FileInfo(ProcessDirectory.PathOf(pid, "cwd")).LinkTarget ?? "/";
            return Path.GetFullPath(program, cwd);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The objects a program paused before its exec will map, in binding order: the program (or its #! interpreter),
    /// then what its dynamic linker lists (preloads first, then the libraries in load order). Null when the image is
    /// no ELF file we can read (a #! interpreter exec resolves against the working directory, a file exec will
    /// refuse): the launcher's own view stands in, and the launcher reports the failed exec.
    /// </summary>
    private static List<TargetLibrary>? ObjectsOfProgram(int pid, string program, Action<string>? verbose)
    {
        string image = ExecutableCheck.ReadInterpreter(program) ?? program;
        if (!image.StartsWith('/') || TargetLibrary.FromUnmappedPath(pid, image) is not { } executable) return null;
        var order = new List<TargetLibrary> { executable };
        string? interpreter;
        try
        {
            using ElfImage elf = ElfImage.Open(image);
            byte[]? interp = elf.ReadSectionContents(".interp");
            interpreter = interp is null ? null : System.Text.Encoding.UTF8.GetString(interp).TrimEnd('\0');
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            verbose?.Invoke($"'{image}' is no ELF file we can read ({e.Message}): the allocator is looked for in the launcher's own libraries.");
            return null;
        }
        if (interpreter is null) return order;   // static: the executable is all there is

        foreach (string path in ListDependencies(interpreter, image, verbose))
        {
            if (TargetLibrary.FromUnmappedPath(pid, path) is { } library && !order.Exists(o => o.MappedPath == library.MappedPath)) order.Add(library);
        }
        return order;
    }

    /// <summary>`ld.so --list PROGRAM`: the paths of the objects it would load, in load order (LD_PRELOAD first).</summary>
    private static List<string> ListDependencies(string interpreter, string program, Action<string>? verbose)
    {
        var paths = new List<string>();
        try
        {
            var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("--list");
            start.ArgumentList.Add(program);
            using Process list = Process.Start(start)!;
            string output = list.StandardOutput.ReadToEnd();
            list.StandardError.ReadToEnd();
            if (!list.WaitForExit(5000)) list.Kill();
            foreach (string raw in output.Split('\n'))
            {
                // "\tlibjemalloc.so.2 => /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 (0x…)", "\t/lib64/ld-linux-x86-64.so.2 (0x…)"
                string line = raw.Trim();
                int arrow = line.IndexOf("=> ", StringComparison.Ordinal);
                string rest = arrow >= 0 ? line[(arrow + 3)..] : line;
                int paren = rest.LastIndexOf(" (", StringComparison.Ordinal);
                string path = paren >= 0 ? rest[..paren] : rest;
                if (path.StartsWith('/')) paths.Add(path);
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            verbose?.Invoke($"Cannot list the libraries of {program} with {interpreter} --list: {e.Message}");
        }
        return paths;
    }

    private static ulong? ReadEntryPoint(int pid)
    {
        try
        {
            byte[] auxv = File.ReadAllBytes(ProcessDirectory.PathOf(pid, "auxv"));
            for (int at = 0; at + 16 <= auxv.Length; at += 16)
            {
                if (BinaryPrimitives.ReadUInt64LittleEndian(auxv.AsSpan(at)) == AuxEntryPoint)
                    return BinaryPrimitives.ReadUInt64LittleEndian(auxv.AsSpan(at + 8));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>LD_PRELOAD of the target's environment: paths or names, separated by spaces or colons.</summary>
    private static string[] ReadPreloads(int pid)
    {
        try
        {
            foreach (string variable in File.ReadAllText(ProcessDirectory.PathOf(pid, "environ")).Split('\0'))
            {
                if (variable.StartsWith("LD_PRELOAD=", StringComparison.Ordinal))
                    return variable["LD_PRELOAD=".Length..].Split(new[] { ' ', ':' }, StringSplitOptions.RemoveEmptyEntries);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return Array.Empty<string>();
    }
}
