using System;
using System.IO;
using System.Management.Automation;
using LeakTools.Model;
using LeakTools.Procfs;

namespace LeakTools.Commands;

/// <summary>
/// vmstat as objects: one sample by default, -Count samples -Interval seconds apart, or a stream until
/// Ctrl+C with -Interval alone. The first sample covers the time since boot, later ones the interval.
/// </summary>
[Cmdlet(VerbsCommon.Get, "VmStat")]
[OutputType(typeof(VmStatSample))]
public sealed class GetVmStatCommand : LeakCmdletBase, IDisposable
{
    private readonly SamplingWait _wait = new();

    /// <summary>Seconds between samples; fractions allowed. Without -Count the samples go on until Ctrl+C.</summary>
    [Parameter(Position = 0)]
    [ValidateInterval]
    public double Interval { get; set; } = 1;

    /// <summary>How many samples to take.</summary>
    [Parameter(Position = 1)]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    protected override void EndProcessing()
    {
        long count = SamplingWait.SampleCount(this, Count);
        var files = new SystemFiles();
        VmStatSnapshot? previous = null;
        DateTime nextUtc = DateTime.UtcNow;

        for (long sample = 1; sample <= count; sample++)
        {
            if (sample > 1)
            {
                nextUtc += TimeSpan.FromSeconds(Interval);
                if (!_wait.WaitUntil(nextUtc, this, "Get-VmStat")) return;
            }
            VmStatSnapshot current;
            try
            {
                current = VmStatSnapshot.Take(files);
            }
            catch (ProcfsFormatException e)
            {
                ThrowTerminating(e, ErrorIds.ProcfsParseFailed, ErrorCategory.ParserError, e.Source,
                    ProcfsFormatException.RecommendedAction);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                ThrowTerminating(e, ErrorIds.ProcfsReadFailed, ErrorCategory.ReadError, "/proc",
                    "Make sure /proc is mounted and readable (mount -t proc proc /proc).");
                return;
            }
            WriteObject(current.ToSample(previous, (int)Math.Min(sample, int.MaxValue), ProcessFiles.PageSize));
            previous = current;
        }
    }

    protected override void StopProcessing() => _wait.Cancel();

    public void Dispose() => _wait.Dispose();
}
