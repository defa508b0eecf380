using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using LeakTools.Model;
using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

/// <summary>The I/O side, on the real /proc: this process, a process that is gone, and chunked reads.</summary>
public class ProcessFilesTests
{
    private const int MissingPid = 2147483000;

    [Fact]
    public void ReadsThisProcess()
    {
        int pid = Environment.ProcessId;
        ProcessStat stat = ProcessFiles.TryReadStat(pid)!;
        ProcessStatus status = ProcessFiles.TryReadStatus(pid)!;
        Assert.Equal(pid, stat.ProcessId);
        Assert.Equal(pid, status.ProcessId);
        Assert.True(status.VmRSS > 0);
        Assert.True(ProcessFiles.TryReadStatm(pid)!.Resident > 0);
        Assert.NotEmpty(ProcessFiles.TryReadCommandLine(pid)!);
        MemoryMapping rollup = ProcessFiles.TryReadSmapsRollup(pid)!;
        Assert.True(rollup.Pss > 0);
    }

    [Fact]
    public void TryReadersReturnNullForAProcessThatIsGone()
    {
        Assert.Null(ProcessFiles.TryReadStat(MissingPid));
        Assert.Null(ProcessFiles.TryReadStatus(MissingPid));
        Assert.Null(ProcessFiles.TryReadStatm(MissingPid));
        Assert.Null(ProcessFiles.TryReadCommandLine(MissingPid));
        Assert.Null(ProcessFiles.TryReadSmapsRollup(MissingPid));
        Assert.Null(ProcessFiles.TryOpenText(MissingPid, "smaps"));
    }

    [Fact]
    public void AProcessThatExitsAfterItsFileWasOpenedFailsAsGone()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        using TextReader smaps = ProcessFiles.TryOpenText(child.Id, "smaps")!;
        child.Kill();
        child.WaitForExit();
        // Reading an open smaps of a process that is gone fails with ESRCH, which IsGone recognises.
        var reader = new SmapsReader(smaps, "smaps");
        var e = Assert.ThrowsAny<IOException>(() => { while (reader.TryReadNext(out _)) { } });
        Assert.True(ProcessFiles.IsGone(e, child.Id));
        Assert.False(ProcessDirectory.Exists(child.Id));
        Assert.Null(ProcessFiles.TryReadStatus(child.Id));
    }

    [Fact]
    public void KernelThreadsHaveNoRollup()
    {
        Assert.True(ProcessFiles.TryReadStat(2)!.IsKernelThread);
    }

    [Fact]
    public void ChunkedReadsParseLikeOneRead()
    {
        string text = Samples.Read("sleep/smaps");
        var whole = SmapsReader.ParseAll(text);
        var reader = new SmapsReader(new TrickleReader(text, 7), "smaps");
        var chunked = new System.Collections.Generic.List<MemoryMapping>();
        while (reader.TryReadNext(out MemoryMapping? m)) chunked.Add(m);
        Assert.Equal(whole.Select(m => (m.Start, m.Path, m.Rss, m.VmFlags)), chunked.Select(m => (m.Start, m.Path, m.Rss, m.VmFlags)));
    }

    /// <summary>Hands out a few characters per Read, as a pipe or a slow file might.</summary>
    private sealed class TrickleReader(string text, int chunk) : TextReader
    {
        private int _position;

        public override int Read(char[] buffer, int index, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), text.Length - _position);
            text.CopyTo(_position, buffer, index, n);
            _position += n;
            return n;
        }
    }
}
