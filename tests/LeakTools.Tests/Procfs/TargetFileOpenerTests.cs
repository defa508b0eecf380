using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using LeakTools.Procfs;
using LeakTools.Symbols;
using LeakTools.Tests.Symbols;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace LeakTools.Tests.Procfs;

/// <summary>
/// The opener for files a traced process names, against a temp directory used as its root: symlinks that aim
/// out of the root (absolute, or up with "..") stay inside it, FIFOs and devices are refused without blocking,
/// and files over the cap are refused. The control cases read the same links the plain way and do escape.
/// </summary>
public sealed partial class TargetFileOpenerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"leaktools-rooted-{Guid.NewGuid():N}");
    private readonly string _root;
    private readonly string _hostSecret;

    public TargetFileOpenerTests()
    {
        _root = Path.Combine(_directory, "root");
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        Directory.CreateDirectory(Path.Combine(_root, "usr/lib"));
        File.WriteAllText(Path.Combine(_root, "etc/inside"), "inside the root");
        _hostSecret = Path.Combine(_directory, "host-secret");
        File.WriteAllText(_hostSecret, "host only");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeFifo(string path, uint mode);

    private string Link(string name, string target)
    {
        string path = Path.Combine(_root, name);
        File.CreateSymbolicLink(path, target);
        return "/" + name;
    }

    private static string ReadText(SafeFileHandle handle)
    {
        using (handle) return Encoding.UTF8.GetString(TargetFileOpener.ReadAll(handle, 1 << 20));
    }

    [Fact]
    public void ReadsAFileInsideTheRoot()
    {
        Assert.Equal("inside the root", ReadText(TargetFileOpener.OpenInRoot(_root, "/etc/inside", 1 << 20)));
        Assert.Equal("inside the root", ReadText(TargetFileOpener.OpenInRoot(_root, "etc/inside", 1 << 20)));
    }

    [Fact]
    public void AnAbsoluteSymlinkResolvesAgainstTheTargetsRoot()
    {
        string inside = Link("usr/lib/abs-inside", "/etc/inside");
        Assert.Equal("inside the root", ReadText(TargetFileOpener.OpenInRoot(_root, inside, 1 << 20)));

        // Aimed at a host path: inside the root there is no such file.
        string toHost = Link("usr/lib/abs-host", _hostSecret);
        Assert.Equal("host only", File.ReadAllText(Path.Combine(_root, "usr/lib/abs-host"))); // the plain lookup escapes
        Assert.Throws<FileNotFoundException>(() => TargetFileOpener.OpenInRoot(_root, toHost, 1 << 20));
    }

    [Fact]
    public void DotDotCannotClimbOutOfTheRoot()
    {
        string up = Link("usr/lib/up", "../../../../../../../../../" + _hostSecret.TrimStart('/'));
        Assert.Equal("host only", File.ReadAllText(Path.Combine(_root, "usr/lib/up")));
        Assert.Throws<FileNotFoundException>(() => TargetFileOpener.OpenInRoot(_root, up, 1 << 20));
        Assert.Throws<FileNotFoundException>(() => TargetFileOpener.OpenInRoot(_root, "/../host-secret", 1 << 20));

        // Up to the root and down again stays a path inside it.
        string upAndIn = Link("usr/lib/up-and-in", "../../../../../etc/inside");
        Assert.Equal("inside the root", ReadText(TargetFileOpener.OpenInRoot(_root, upAndIn, 1 << 20)));
    }

    [Fact]
    public void AFifoIsRefusedWithoutBlocking()
    {
        Assert.Equal(0, MakeFifo(Path.Combine(_root, "usr/lib/fifo"), 0b110_100_100));
        string link = Link("usr/lib/to-fifo", "/usr/lib/fifo");
        var clock = Stopwatch.StartNew();
        IOException inRoot = Assert.Throws<IOException>(() => TargetFileOpener.OpenInRoot(_root, link, 1 << 20));
        IOException direct = Assert.Throws<IOException>(() => TargetFileOpener.Open(Path.Combine(_root, "usr/lib/fifo"), 1 << 20));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "opening a FIFO with no writer must not wait for one");
        Assert.Contains("not a regular file (a FIFO)", inRoot.Message);
        Assert.Contains("not a regular file (a FIFO)", direct.Message);
    }

    [Fact]
    public void DevicesAndDirectoriesAreRefused()
    {
        IOException zero = Assert.Throws<IOException>(() => TargetFileOpener.Open("/dev/zero", 1 << 20));
        Assert.Contains("character device", zero.Message);
        IOException directory = Assert.Throws<IOException>(() => TargetFileOpener.OpenInRoot(_root, "/etc", 1 << 20));
        Assert.Contains("a directory", directory.Message);
        // /dev/zero through an absolute symlink in the root: the root has no /dev.
        string link = Link("usr/lib/zero", "/dev/zero");
        Assert.Throws<FileNotFoundException>(() => TargetFileOpener.OpenInRoot(_root, link, 1 << 20));
    }

    [Fact]
    public void AMagicLinkIsRefusedInsideTheRoot()
    {
        Directory.CreateDirectory(Path.Combine(_root, "proc"));
        string magic = Link("proc/fd0", "/proc/self/fd/0");
        // Even a root that holds a real /proc: resolution of /proc/self/fd/N jumps anywhere, so it is refused.
        Assert.Throws<IOException>(() => TargetFileOpener.OpenInRoot("/", "/proc/self/exe", TargetFileOpener.MaxElfFileBytes));
        Assert.Throws<FileNotFoundException>(() => TargetFileOpener.OpenInRoot(_root, magic, 1 << 20));
    }

    [Fact]
    public void AFileOverTheCapIsRefused()
    {
        string big = Path.Combine(_root, "usr/lib/big.so");
        using (var stream = new FileStream(big, FileMode.CreateNew)) stream.SetLength(TargetFileOpener.MaxElfFileBytes + 1); // sparse
        IOException ex = Assert.Throws<IOException>(() => TargetFileOpener.OpenInRoot(_root, "/usr/lib/big.so", TargetFileOpener.MaxElfFileBytes));
        Assert.Contains("1024 MiB", ex.Message);
        Assert.Throws<IOException>(() => ElfImage.Open(big));
    }

    [Fact]
    public void AProcessRootPathResolvesInsideThatRoot()
    {
        // Our own root is "/", so the in-root resolution of /proc/self/root/<path> is the plain one.
        Assert.Equal("inside the root", ReadText(TargetFileOpener.Open($"/proc/{Environment.ProcessId}/root{_root}/etc/inside", 1 << 20)));
        // A symlink inside the root, read as a root of its own, stays there.
        string toHost = Link("usr/lib/abs-host2", _hostSecret);
        Assert.Throws<FileNotFoundException>(() => TargetFileOpener.OpenInRoot(_root, toHost, 1 << 20));
    }

    [Fact]
    public void ADebugFileLinkedToAHostFileIsNotFound()
    {
        // The stripped sample's debug file, by build-id, inside a root whose link points at the real file outside it.
        using ElfImage binary = ElfImage.Open(ElfSamples.PathOf("sample-stripped"));
        string id = binary.BuildId!;
        string debugDirectory = Path.Combine(_root, "usr/lib/debug/.build-id", id[..2]);
        Directory.CreateDirectory(debugDirectory);
        File.CreateSymbolicLink(Path.Combine(debugDirectory, id[2..] + ".debug"), ElfSamples.PathOf("sample-stripped.debug"));

        // The plain lookup through the link finds the host's file; the locator, given the root, does not.
        Assert.True(File.Exists(Path.Combine(debugDirectory, id[2..] + ".debug")));
        var said = new System.Collections.Generic.List<string>();
        using ElfImage? found = DebugFileLocator.Find(binary, "/app", _root, new[] { "/usr/lib/debug" }, said.Add);
        Assert.Null(found);
        Assert.Empty(said); // not there, which is no news
    }
}
