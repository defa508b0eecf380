using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using LeakTools.Procfs;
using LeakTools.Symbols;
using LeakTools.Targets;

namespace LeakTools.Tracing;

/// <summary>
/// Which allocator functions of a library get probes and where: symbol → file offset through the ELF's
/// PT_LOAD segments, entry bytes → <see cref="ProbeSiteSelector"/>. Aliases (glibc 2.36's memalign and
/// aligned_alloc are one function) are probed once, or every call would count twice, and named by all their names.
/// </summary>
internal static class ProbePlan
{
    private const int CodeWindow = 64;

    /// <summary>
    /// The probes for <paramref name="allocator"/>: each user-space function in the object its calls bind to (the
    /// allocator, or for mmap and friends the object that defines them first). Throws <see cref="TracerException"/>
    /// (<see cref="ErrorIds.LibraryUnreadable"/>) when a file cannot be read or is no valid ELF file anywhere we look,
    /// headers or symbol tables: the file comes from the target's root, which may be a container's, and must not end
    /// the command with a raw exception.
    /// </summary>
    public static List<(AllocatorProbe Probe, ProbeSite Site)> Build(TargetAllocator allocator, string? symbolPrefix, bool forceEntrySites, Action<string>? verbose)
    {
        var plan = new List<(AllocatorProbe, ProbeSite)>();
        foreach (var group in AllocatorProbe.UserSpace.GroupBy(allocator.LibraryOf))
        {
            TargetLibrary library = group.Key;
            try
            {
                using ElfImage image = ElfImage.Open(library.OpenPath);
                string? prefix = library == allocator.Library ? symbolPrefix : null;
                plan.AddRange(Build(image, library, group, prefix, forceEntrySites, verbose));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw library.Unreadable(e);
            }
        }

        bool hasMalloc = plan.Exists(p => p.Item1.Function == AllocatorFunction.Malloc);
        bool hasFree = plan.Exists(p => p.Item1.Function == AllocatorFunction.Free);
        if (!hasMalloc && !hasFree)
        {
            throw new TracerException(
                $"'{allocator.Library.MappedPath}' defines neither {symbolPrefix}malloc nor {symbolPrefix}free, so there is nothing to trace.",
                ErrorIds.AllocatorNotFound, ErrorCategory.ObjectNotFound, allocator.Library.MappedPath,
                "Point -Library at the allocator (libc, libjemalloc, libtcmalloc) and give -SymbolPrefix if its symbols are prefixed (e.g. je_).");
        }
        return plan;
    }

    private static List<(AllocatorProbe Probe, ProbeSite Site)> Build(ElfImage image, TargetLibrary library, IEnumerable<AllocatorProbe> probes,
        string? symbolPrefix, bool forceEntrySites, Action<string>? verbose)
    {
        var plan = new List<(AllocatorProbe, ProbeSite)>();
        var seen = new Dictionary<ulong, ProbeSite>();
        var missing = new List<string>();
        foreach (AllocatorProbe probe in probes)
        {
            string symbol = (symbolPrefix ?? "") + probe.Symbol;
            if (!image.TryFindFunction(symbol, out ElfFunction function))
            {
                missing.Add(symbol);
                continue;
            }
            if (!image.TryGetFileOffset(function.Value, out ulong fileOffset)) continue;

            var site = new ProbeSite
            {
                Function = probe.Function,
                Symbol = symbol,
                Name = probe.DisplayName,
                LibraryPath = library.MappedPath,
                OpenPath = library.OpenPath,
                EntryOffset = fileOffset,
                HasReturnProbe = probe.ReturnProgram is not null,
            };
            if (seen.TryGetValue(function.Value, out ProbeSite? first))
            {
                // One probe sees the calls of every name, and which name a call was bound to is not knowable there:
                // events carry the names of the first one's family (glibc 2.36's memalign is its aligned_alloc; tcmalloc's
                // tc_free and operator delete are its free, named free).
                if (AllocatorProbe.Of(first.Function).Family == probe.Family) first.Name += "/" + probe.DisplayName;
                verbose?.Invoke($"{symbol} is an alias of {first.Symbol} (same code): probed once, its calls named {first.Name}.");
                continue;
            }
            seen[function.Value] = site;

            int window = function.Size is > 0 and < CodeWindow ? (int)function.Size : CodeWindow;
            byte[] code = image.ReadAtVirtualAddress(function.Value, window);
            ProbeSiteChoice choice = ProbeSiteSelector.Choose(code, function.Value, probe.ArgumentCount);
            site.EntryInstruction = choice.EntryInstruction;
            if (forceEntrySites)
            {
                site.ChosenOffset = fileOffset;
                site.ChosenInstruction = choice.EntryInstruction;
                site.Emulated = choice.Displacement == 0 && choice.Emulated;
                site.Reason = "entry forced (ForceEntrySites)";
            }
            else
            {
                site.ChosenOffset = fileOffset + (ulong)choice.Displacement;
                site.ChosenInstruction = choice.ChosenInstruction;
                site.Emulated = choice.Emulated;
                site.ArgumentMoves = choice.ArgumentMoves;
                site.Reason = choice.Reason;
            }
            plan.Add((probe, site));
        }

        // One line: most allocators define a family or two of the table's functions.
        if (missing.Count > 0) verbose?.Invoke($"{library.MappedPath} does not define {string.Join(", ", missing)}: not probed.");
        return plan;
    }
}
