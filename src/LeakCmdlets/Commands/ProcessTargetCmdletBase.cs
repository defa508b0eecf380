using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using LeakTools.Procfs;

namespace LeakTools.Commands;

/// <summary>
/// The -Id / -Name / -InputObject parameter sets shared by every cmdlet that looks at processes,
/// modelled on PowerShell's own Get-Process: anything with an Id property pipes in by property name,
/// a Process object pipes in by value, and no argument at all means every process.
/// </summary>
public abstract class ProcessTargetCmdletBase : LeakCmdletBase
{
    protected const string IdParameterSet = "Id";
    protected const string NameParameterSet = "Name";
    protected const string InputObjectParameterSet = "InputObject";

    /// <summary>Process ids. Binds by property name, so objects with an Id (or ProcessId/PID) pipe in.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdParameterSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PID", "ProcessId")]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Process names (the kernel's comm, as Get-Process shows it); wildcards allowed.</summary>
    [Parameter(Position = 0, ParameterSetName = NameParameterSet)]
    [Alias("ProcessName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProcessNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Process objects, as Get-Process emits them.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectParameterSet, ValueFromPipeline = true)]
    public Process[]? InputObject { get; set; }

    /// <summary>
    /// The processes named by this call's parameters. Ids that do not exist and names that match
    /// nothing are reported as non-terminating errors; the rest are returned.
    /// Subclasses with extra parameter sets (for example -Command) handle those themselves.
    /// </summary>
    protected IReadOnlyList<int> ResolveTargetProcessIds()
    {
        var result = new List<int>();
        switch (ParameterSetName)
        {
            case IdParameterSet:
                foreach (int pid in Id ?? Array.Empty<int>())
                {
                    if (ProcessDirectory.Exists(pid)) result.Add(pid);
                    else WriteProcessNotFound(pid);
                }
                break;

            case InputObjectParameterSet:
                foreach (Process process in InputObject ?? Array.Empty<Process>())
                {
                    int pid = process.Id;
                    if (ProcessDirectory.Exists(pid)) result.Add(pid);
                    else WriteProcessNotFound(pid);
                }
                break;

            case NameParameterSet:
                if (Name is null || Name.Length == 0)
                {
                    result.AddRange(ProcessDirectory.EnumerateProcessIds());
                    break;
                }
                foreach (string pattern in Name)
                {
                    var wildcard = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase);
                    bool found = false;
                    foreach (int pid in ProcessDirectory.EnumerateProcessIds())
                    {
                        string? comm = ProcessDirectory.TryReadComm(pid);
                        if (comm is null || !wildcard.IsMatch(comm) || result.Contains(pid)) continue;
                        if (ExcludesOwnProcess && OwnProcessIds.Contains(pid))
                        {
                            WriteVerbose(pid == Environment.ProcessId
                                ? $"Leaving out process {pid} ({comm}), which -Name \"{pattern}\" matches: it is this PowerShell session, and tracing the tracer would report its own allocations as the target's."
                                : $"Leaving out process {pid} ({comm}), which -Name \"{pattern}\" matches: it is the dotnet host that runs this PowerShell session ('dotnet pwsh').");
                            continue;
                        }
                        result.Add(pid);
                        found = true;
                    }
                    if (!found && !WildcardPattern.ContainsWildcardCharacters(pattern))
                    {
                        WriteNonTerminatingError(
                            new ArgumentException($"Cannot find a process with the name \"{pattern}\"."),
                            ErrorIds.NoProcessFoundForGivenName, ErrorCategory.ObjectNotFound, pattern,
                            "Verify the process name (see Get-Process) and call the cmdlet again.");
                    }
                }
                break;
        }
        return result;
    }

    /// <summary>Whether -Name leaves out this process itself (a tracer must not trace itself).</summary>
    protected virtual bool ExcludesOwnProcess => false;

    private HashSet<int>? _ownProcessIds;

    /// <summary>
    /// This process, and the dotnet host processes above it that only run it: under `dotnet pwsh` the muxer and
    /// the tool shim are dotnet processes too, and a -Name dotnet would otherwise pick them.
    /// </summary>
    private HashSet<int> OwnProcessIds
    {
        get
        {
            if (_ownProcessIds is not null) return _ownProcessIds;
            _ownProcessIds = new HashSet<int> { Environment.ProcessId };
            string? executable = TryReadExecutable(Environment.ProcessId);
            if (executable is null || Path.GetFileName(executable) != "dotnet") return _ownProcessIds;
            int pid = Environment.ProcessId;
            while (true)
            {
                ProcessStat? stat;
                try { stat = ProcessFiles.TryReadStat(pid); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcfsFormatException) { break; }
                int parent = stat?.ParentProcessId ?? 0;
                if (parent <= 1 || TryReadExecutable(parent) != executable || !_ownProcessIds.Add(parent)) break;
                pid = parent;
            }
            return _ownProcessIds;
        }
    }

    private static string? TryReadExecutable(int pid)
    {
        try { return new FileInfo(ProcessDirectory.PathOf(pid, "exe")).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    protected void WriteProcessNotFound(int pid) =>
        WriteNonTerminatingError(
            new ArgumentException($"Cannot find a process with the process identifier {pid}."),
            ErrorIds.NoProcessFoundForGivenId, ErrorCategory.ObjectNotFound, pid,
            "Verify the process identifier (see Get-Process) and call the cmdlet again.");

    /// <summary>The process went away between being named and being read: a warning-level event, not a failure of ours.</summary>
    protected void WriteProcessExited(int pid) =>
        WriteNonTerminatingError(
            new InvalidOperationException($"Process {pid} exited while it was being read."),
            ErrorIds.ProcessExited, ErrorCategory.ObjectNotFound, pid,
            "The process is gone; nothing to do unless it was expected to keep running.");

    protected void WriteAccessDenied(int pid, Exception inner) =>
        WriteNonTerminatingError(
            new UnauthorizedAccessException($"Access to process {pid} was denied: {inner.Message}", inner),
            ErrorIds.ProcessAccessDenied, ErrorCategory.PermissionDenied, pid,
            ProcessAccess.DeniedRemedy(pid));
}
