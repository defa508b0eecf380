using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace LeakTools.Commands;

/// <summary>
/// SIGTERM while a tracing cmdlet runs: how systemd, `timeout` and cron wrappers stop a script, and the only polite
/// signal a background job gets (it ignores SIGINT). The signal is taken over only while at least one tracing
/// cmdlet holds a <see cref="Lease"/>: it then stops those cmdlets the way Ctrl+C does (they detach and write
/// their partial report), and once the last of them is done the process exits with <see cref="ExitCode"/>,
/// as it would have without us. At any other time SIGTERM keeps PowerShell's default behaviour.
/// </summary>
internal static class TerminationSignal
{
    /// <summary>128 + SIGTERM, what a shell reports for a process ended by SIGTERM (and what pwsh exits with).</summary>
    public const int ExitCode = 128 + 15;

    private static readonly object Gate = new();
    private static readonly List<Lease> Holders = new();
    private static PosixSignalRegistration? _registration;
    private static bool _received;

    /// <summary>Routes SIGTERM to <paramref name="stop"/> until the lease is disposed.</summary>
    public static Lease Take(Action stop)
    {
        var lease = new Lease(stop);
        lock (Gate)
        {
            Holders.Add(lease);
            _registration ??= PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            if (_received) stop();   // a signal on its way to us while another cmdlet was stopping
        }
        return lease;
    }

    private static void OnSignal(PosixSignalContext context)
    {
        lock (Gate)
        {
            if (Holders.Count == 0) return;   // the default: the runtime ends the process
            context.Cancel = true;
            _received = true;
            foreach (var holder in Holders) holder.Stop();
        }
    }

    /// <summary>A tracing cmdlet's claim on SIGTERM.</summary>
    public sealed class Lease : IDisposable
    {
        internal Lease(Action stop) => Stop = stop;

        internal Action Stop { get; }

        /// <summary>
        /// Gives the signal back. When SIGTERM came and this was the last tracing cmdlet, the process ends here:
        /// everything was detached and reported, and the rest of the script must not run.
        /// </summary>
        public void Dispose()
        {
            bool exit;
            lock (Gate)
            {
                if (!Holders.Remove(this)) return;
                if (Holders.Count > 0) return;
                _registration?.Dispose();
                _registration = null;
                exit = _received;
            }
            if (exit) Environment.Exit(ExitCode);
        }
    }
}
