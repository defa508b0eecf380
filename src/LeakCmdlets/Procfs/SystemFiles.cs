using System;
using System.IO;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace LeakTools.Procfs;

/// <summary>
/// Reads the system-wide /proc files into reused buffers, so that a vmstat sample costs a few
/// system calls and no per-line allocation. One instance per sampling loop; not thread-safe.
/// </summary>
public sealed class SystemFiles
{
    private byte[] _bytes = new byte[16 * 1024];
    private char[] _chars = new char[16 * 1024];

    public MemInfo ReadMemInfo() => MemInfo.Parse(Read("/proc/meminfo"));
    public KernelStat ReadKernelStat() => KernelStat.Parse(Read("/proc/stat"));
    public VirtualMemoryCounters ReadVirtualMemoryCounters() => VirtualMemoryCounters.Parse(Read("/proc/vmstat"));

    private LineReader Read(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        int length = 0;
        while (true)
        {
            if (length == _bytes.Length) Array.Resize(ref _bytes, _bytes.Length * 2);
            int read = RandomAccess.Read(handle, _bytes.AsSpan(length), length);
            if (read <= 0) break;
            length += read;
        }
        if (_chars.Length < length) _chars = new char[_bytes.Length];
        int chars = Encoding.ASCII.GetChars(_bytes, 0, length, _chars, 0);
        return new LineReader(_chars, chars);
    }
}
