using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using LeakTools.Procfs;
using LeakTools.Symbols;
using LeakTools.Targets;

namespace LeakTools.Tracing;

/// <summary>
/// Which allocator functions of a library get probes and where: symbol → file offset through the ELF's
/// PT_LOAD segments, entry bytes → <see cref="ProbeSiteSelector"/>. Aliases (glibc's memalign and
/// aligned_alloc are one function) are probed once, or every call would count twice.
/// </summary>
internal static class ProbePlan
{
    private const int CodeWindow = 64;

    /// <summary>
    /// The probes for <paramref name="library"/>. Throws <see cref="TracerException"/> (<see cref="ErrorIds.LibraryUnreadable"/>)
    /// when the file cannot be read or is no valid ELF file anywhere we look, headers or symbol tables: the file comes
    /// from the target's root, which may be a container's, and must not end the command with a raw exception.
    /// </summary>
    public static List<(AllocatorProbe Probe, ProbeSite Site)> Build(TargetLibrary library, string? symbolPrefix, bool forceEntrySites, Action<string>? verbose)
    {
        try
        {
            using ElfImage image = ElfImage.Open(library.OpenPath);
            return Build(image, library, symbolPrefix, forceEntrySites, verbose);
        }
        catch (InvalidDataException e)
        {
            throw new TracerException($"The allocator library '{library.MappedPath}' ({library.OpenPath}) is not a valid ELF file: {e.Message}",
                ErrorIds.LibraryUnreadable, ErrorCategory.InvalidData, library.MappedPath,
                "The file the target maps is corrupt or truncated (check it with readelf -h -S): reinstall it in the target, or give -Library another allocator library.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TracerException($"Cannot read the allocator library '{library.MappedPath}' ({library.OpenPath}): {e.Message}",
                ErrorIds.LibraryUnreadable, ErrorCategory.ReadError, library.MappedPath,
                $"Give -Library as a readable ELF shared object or executable that the target maps: a regular file of at most {TargetFileOpener.MaxElfFileBytes >> 20} MiB.", e);
        }
    }

    private static List<(AllocatorProbe Probe, ProbeSite Site)> Build(ElfImage image, TargetLibrary library, string? symbolPrefix, bool forceEntrySites, Action<string>? verbose)
    {
        var plan = new List<(AllocatorProbe, ProbeSite)>();
        var seen = new Dictionary<ulong, AllocatorFunction>();
        foreach (AllocatorProbe probe in AllocatorProbe.UserSpace)
        {
            string symbol = (symbolPrefix ?? "") + probe.Symbol;
            if (!image.TryFindFunction(symbol, out ElfFunction function))
            {
                verbose?.Invoke($"{library.MappedPath} has no {symbol}: not probed.");
                continue;
            }
            if (!image.TryGetFileOffset(function.Value, out ulong fileOffset)) continue;

            var site = new ProbeSite
            {
                Function = probe.Function,
                Symbol = symbol,
                LibraryPath = library.MappedPath,
                EntryOffset = fileOffset,
                HasReturnProbe = probe.ReturnProgram is not null,
            };
            if (seen.TryGetValue(function.Value, out AllocatorFunction first))
            {
                verbose?.Invoke($"{symbol} is an alias of {first} (same code): not probed twice.");
                continue;
            }
            seen[function.Value] = probe.Function;

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
                site.Reason = choice.Reason;
            }
            plan.Add((probe, site));
        }

        bool hasMalloc = plan.Exists(p => p.Item1.Function == AllocatorFunction.Malloc);
        bool hasFree = plan.Exists(p => p.Item1.Function == AllocatorFunction.Free);
        if (!hasMalloc && !hasFree)
        {
            throw new TracerException(
                $"'{library.MappedPath}' defines neither {symbolPrefix}malloc nor {symbolPrefix}free, so there is nothing to trace.",
                ErrorIds.AllocatorNotFound, ErrorCategory.ObjectNotFound, library.MappedPath,
                "Point -Library at the allocator (libc, libjemalloc, libtcmalloc) and give -SymbolPrefix if its symbols are prefixed (e.g. je_).");
        }
        return plan;
    }
}
