using System;
using System.Collections.Generic;
using System.Management.Automation;
using LeakTools.Model;
using LeakTools.Procfs;

namespace LeakTools.Commands;

/// <summary>
/// Per-process memory as top, ps and smem show it. With -Interval or -Count it samples repeatedly and
/// adds the Rss growth since the previous sample and its rate: the first "is it leaking?" signal.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ProcessMemory", DefaultParameterSetName = NameParameterSet)]
[OutputType(typeof(ProcessMemoryInfo))]
public sealed class GetProcessMemoryCommand : ProcfsProcessCmdletBase
{
    private readonly List<int> _targets = new();
    private Dictionary<int, ProcessMemoryInfo> _previous = new();
    private ProcessMemoryReader? _reader;

    /// <summary>Seconds between samples; fractions allowed. Without -Count the samples go on until Ctrl+C.</summary>
    [Parameter]
    [ValidateInterval]
    public double Interval { get; set; } = 1;

    /// <summary>How many samples to take of each process.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    private bool IsSampling =>
        MyInvocation.BoundParameters.ContainsKey(nameof(Interval)) || MyInvocation.BoundParameters.ContainsKey(nameof(Count));

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        long memTotal = 0;
        try { memTotal = new SystemFiles().ReadMemInfo().MemTotal; }
        catch (Exception e) when (e is System.IO.IOException or ProcfsFormatException or UnauthorizedAccessException)
        {
            WriteWarning($"MemoryPercent is 0 because /proc/meminfo could not be read: {e.Message}");
        }
        _reader = new ProcessMemoryReader(memTotal);
    }

    protected override void ProcessRecord()
    {
        foreach (int pid in ResolveTargetProcessIds())
        {
            if (IsSampling)
            {
                if (!_targets.Contains(pid)) _targets.Add(pid);
            }
            else if (Read(pid, sample: 1) is { } info)
            {
                WriteObject(info);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (IsSampling) Sample();
        WriteDeniedSummary("Pss and Uss are empty");
    }

    private void Sample()
    {
        long count = SamplingWait.SampleCount(this, Count);
        var targets = new List<int>(_targets);
        DateTime nextUtc = DateTime.UtcNow;

        for (long round = 1; round <= count; round++)
        {
            if (round > 1)
            {
                nextUtc += TimeSpan.FromSeconds(Interval);
                if (!Wait.WaitUntil(nextUtc, this, "Get-ProcessMemory")) return;
                if (IsAllProcesses) targets = new List<int>(ProcessDirectory.EnumerateProcessIds());
            }
            // Only this round's processes are kept, so an endless stream over short-lived processes stays small.
            var current = new Dictionary<int, ProcessMemoryInfo>(targets.Count);
            foreach (int pid in targets)
            {
                if (Wait.IsCancelled) return;
                ProcessMemoryInfo? info = Read(pid, sample: 1);
                if (info is null) continue;
                // The same PID with another start time is a new process that reused the number.
                if (_previous.TryGetValue(pid, out var before) && before.StartTicks == info.StartTicks)
                {
                    info.Sample = before.Sample + 1;
                    info.Growth = info.Rss - before.Rss;
                    double seconds = (info.Timestamp - before.Timestamp).TotalSeconds;
                    info.BytesPerSecond = seconds > 0 ? info.Growth / seconds : null;
                }
                current[pid] = info;
                WriteSampled(info);
            }
            _previous = current;
            // A named process that exited has been reported once; later rounds leave it out.
            if (!IsAllProcesses) targets = new List<int>(current.Keys);
            if (targets.Count == 0) return;
        }
    }

    /// <summary>Sampled output carries a second type name, so its default view shows the growth columns.</summary>
    private void WriteSampled(ProcessMemoryInfo info)
    {
        var wrapped = new PSObject(info);
        wrapped.TypeNames.Insert(0, SampledTypeName);
        WriteObject(wrapped);
    }

    public const string SampledTypeName = "LeakTools.Model.ProcessMemoryInfo#Sampled";

    private ProcessMemoryInfo? Read(int pid, int sample)
    {
        try
        {
            int deniedBefore = _reader!.PssDeniedCount;
            ProcessMemoryInfo? info = _reader.TryRead(pid, out ProcessStat? withoutMemory);
            if (info is null)
            {
                if (withoutMemory is not null) ReportWithoutMemory(withoutMemory);
                else ReportExited(pid);
                return null;
            }
            // Pss/Uss stay null when smaps_rollup is not ours to read: counted once, never an error per process.
            if (_reader.PssDeniedCount > deniedBefore) CountQuietDenial();
            info.Sample = sample;
            return info;
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            ReportReadFailure(pid, e);
            return null;
        }
    }
}
