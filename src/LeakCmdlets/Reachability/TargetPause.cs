using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace LeakTools.Reachability;

/// <summary>
/// Holds every thread of a process still, through native/pause/leaktools-pause (PTRACE_SEIZE + PTRACE_INTERRUPT,
/// never SIGSTOP), until <see cref="Resume"/> or the deadline, whichever comes first. The helper dies with us
/// (PR_SET_PDEATHSIG) and the kernel resumes the threads of a dead tracer, so no way out of LeakTools leaves the
/// target stopped. Start it from the thread that will resume it: the death signal is tied to the forking thread.
/// </summary>
public sealed class TargetPause : IDisposable
{
    public const string HelperFileName = "leaktools-pause";

    private readonly Process _helper;
    private bool _resumed;

    private TargetPause(Process helper, IReadOnlyList<ThreadRegisters> threads, TimeSpan stopTime)
    {
        _helper = helper;
        Threads = threads;
        StopTime = stopTime;
    }

    /// <summary>The stopped threads with their registers.</summary>
    public IReadOnlyList<ThreadRegisters> Threads { get; }

    /// <summary>How long stopping every thread took.</summary>
    public TimeSpan StopTime { get; }

    /// <summary>The helper next to this assembly (build.ps1 compiles it into bin/).</summary>
    public static string HelperPath =>
        Path.Combine(Path.GetDirectoryName(typeof(TargetPause).Assembly.Location) ?? ".", HelperFileName);

    /// <summary>Stops every thread of <paramref name="processId"/>; the helper lets go by itself after <paramref name="limit"/>.</summary>
    /// <exception cref="TargetPauseException">The target is traced by someone else, gone, or did not stop in time.</exception>
    public static TargetPause Begin(int processId, TimeSpan limit)
    {
        if (!File.Exists(HelperPath))
            throw new TargetPauseException(PauseFailure.HelperFailed, $"The pause helper '{HelperPath}' is missing: rebuild the module with build.ps1.");
        var start = new ProcessStartInfo(HelperPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(processId.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(((long)Math.Ceiling(limit.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var helper = Process.Start(start) ?? throw new TargetPauseException(PauseFailure.HelperFailed, "The pause helper did not start.");
        var threads = new List<ThreadRegisters>();
        try
        {
            while (true)
            {
                string? line = helper.StandardOutput.ReadLine();
                if (line is null)
                    throw new TargetPauseException(PauseFailure.HelperFailed, $"The pause helper ended without an answer: {helper.StandardError.ReadToEnd().Trim()}");
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                switch (fields[0])
                {
                    case "thread":
                        threads.Add(ParseThread(fields));
                        break;
                    case "stopped":
                        double micros = double.Parse(fields[2], CultureInfo.InvariantCulture);
                        return new TargetPause(helper, threads, TimeSpan.FromTicks((long)(micros * 10)));
                    case "deadline":
                        throw new TargetPauseException(PauseFailure.DeadlinePassed,
                            $"Not every thread of process {processId} stopped within {limit.TotalMilliseconds:0} ms; it was let go.");
                    case "error" when fields.Length > 2 && fields[1] == "traced":
                        int tracer = int.Parse(fields[2], CultureInfo.InvariantCulture);
                        throw new TargetPauseException(PauseFailure.TargetTraced,
                            $"Process {processId} is already traced by process {tracer}: it cannot be paused for a verdict.", tracer);
                    case "error" when fields.Length > 1 && fields[1] == "gone":
                        throw new TargetPauseException(PauseFailure.TargetGone, $"Process {processId} exited.");
                    default:
                        throw new TargetPauseException(PauseFailure.HelperFailed, $"The pause helper failed: {line}");
                }
            }
        }
        catch
        {
            Stop(helper);
            throw;
        }
    }

    private static ThreadRegisters ParseThread(string[] fields)
    {
        var words = new ulong[fields.Length - 3];
        for (int i = 0; i < words.Length; i++) words[i] = ulong.Parse(fields[i + 3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new ThreadRegisters(int.Parse(fields[1], CultureInfo.InvariantCulture),
            ulong.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture), words);
    }

    /// <summary>How long the threads were held, as the helper measured it (from its start until it let them go).</summary>
    public TimeSpan HeldTime { get; private set; }

    /// <summary>Lets the threads go. False when the deadline had already let them go: what was copied may be torn.</summary>
    public bool Resume()
    {
        if (_resumed) return false;
        _resumed = true;
        try
        {
            _helper.StandardInput.WriteLine("resume");
            _helper.StandardInput.Flush();
        }
        catch (IOException)
        {
            // It has already gone (the deadline): its exit let the threads go.
        }
        string? answer = _helper.StandardOutput.ReadLine();
        _helper.WaitForExit(1000);
        if (answer is null || !answer.StartsWith("resumed ", StringComparison.Ordinal)) return false;
        HeldTime = TimeSpan.FromTicks(long.Parse(answer.AsSpan("resumed ".Length), CultureInfo.InvariantCulture) * 10);
        return true;
    }

    public void Dispose()
    {
        Stop(_helper);
        _helper.Dispose();
    }

    // Our own child, by its handle: closing its stdin lets it detach; a kill makes the kernel detach.
    private static void Stop(Process helper)
    {
        try
        {
            if (!helper.HasExited) helper.StandardInput.Close();
            if (!helper.WaitForExit(200)) helper.Kill();
            helper.WaitForExit(1000);
        }
        catch (InvalidOperationException) { }
        catch (IOException) { }
    }
}
