using System;
using System.Management.Automation;
using System.Threading;

namespace LeakTools.Commands;

/// <summary>
/// The pause between samples: ends early on Ctrl+C (StopProcessing calls <see cref="Cancel"/> from another
/// thread) and shows progress on the pipeline thread for waits longer than a second.
/// </summary>
internal sealed class SamplingWait : IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    public bool IsCancelled => _stop.IsCancellationRequested;

    /// <summary>
    /// vmstat's rule for how many samples: -Count when given, endless with -Interval alone, one with neither.
    /// </summary>
    public static long SampleCount(PSCmdlet cmdlet, int count)
    {
        var bound = cmdlet.MyInvocation.BoundParameters;
        return bound.ContainsKey("Count") ? count : bound.ContainsKey("Interval") ? long.MaxValue : 1;
    }

    public void Cancel() => _stop.Cancel();

    /// <summary>Waits until the UTC deadline <paramref name="untilUtc"/>; false when cancelled.</summary>
    public bool WaitUntil(DateTime untilUtc, Cmdlet cmdlet, string activity)
    {
        TimeSpan total = untilUtc - DateTime.UtcNow;
        bool showProgress = total > TimeSpan.FromSeconds(1);
        var progress = new ProgressRecord(0x1eac, activity, "Waiting for the next sample");
        while (!IsCancelled)
        {
            TimeSpan left = untilUtc - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            if (showProgress)
            {
                progress.SecondsRemaining = (int)Math.Ceiling(left.TotalSeconds);
                progress.PercentComplete = (int)Math.Clamp(100 * (1 - left.TotalSeconds / total.TotalSeconds), 0, 100);
                cmdlet.WriteProgress(progress);
            }
            _stop.Token.WaitHandle.WaitOne(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250));
        }
        if (showProgress)
        {
            progress.RecordType = ProgressRecordType.Completed;
            cmdlet.WriteProgress(progress);
        }
        return !IsCancelled;
    }

    public void Dispose() => _stop.Dispose();
}
