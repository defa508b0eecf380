using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace LeakTools.Tests.Symbols;

/// <summary>
/// A running "sample wait" fixture: it prints the run-time addresses of fibonacci and child, then blocks on
/// stdin. Disposing closes stdin so it exits by itself; it is killed only if it does not.
/// </summary>
internal sealed class SampleProcess : IDisposable
{
    private readonly Process _process;

    private SampleProcess(Process process, ulong fibonacci, ulong child)
    {
        _process = process;
        Fibonacci = fibonacci;
        Child = child;
    }

    public int Id => _process.Id;

    /// <summary>Run-time address of fibonacci, as the process itself printed it.</summary>
    public ulong Fibonacci { get; }

    public ulong Child { get; }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> and waits for its address line.</summary>
    public static SampleProcess Start(string fileName, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        Process process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        string? line = process.StandardOutput.ReadLine();
        if (line is null)
        {
            process.WaitForExit(5000);
            string error = process.StandardError.ReadToEnd();
            process.Dispose();
            throw new InvalidOperationException($"{fileName} printed no addresses. stderr: {error}");
        }
        string[] parts = line.Trim().Split(' ');
        return new SampleProcess(process, ParseHex(parts[0]), ParseHex(parts[1]));
    }

    /// <summary>Ends the fixture and waits for it, so a test can symbolize after the target exited.</summary>
    public void Stop()
    {
        if (_process.HasExited) return;
        _process.StandardInput.Close();
        if (!_process.WaitForExit(10_000))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    private static ulong ParseHex(string text) =>
        ulong.Parse(text.StartsWith("0x", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    /// <summary>A fresh temporary directory, deleted by the returned handle.</summary>
    public static TemporaryDirectory CreateTemporaryDirectory(string? parent = null) => new(parent);

    internal sealed class TemporaryDirectory : IDisposable
    {
        public TemporaryDirectory(string? parent)
        {
            Path = System.IO.Path.Combine(parent ?? System.IO.Path.GetTempPath(), "leaktools-symbols-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        /// <summary>Copies a sample into the directory (executable), optionally under another name.</summary>
        public string CopySample(string sample, string? relativeTarget = null)
        {
            string target = System.IO.Path.Combine(Path, relativeTarget ?? sample);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(ElfSamples.PathOf(sample), target, overwrite: true);
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            return target;
        }

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); }
            catch (IOException) { }
        }
    }
}
