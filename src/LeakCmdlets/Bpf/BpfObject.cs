using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using LeakTools.Interop;

namespace LeakTools.Bpf;

/// <summary>
/// One eBPF object embedded in the assembly, driven through libbpf in a fixed order:
/// <see cref="OpenEmbedded"/> → settings (<see cref="WriteReadOnlyData{T}"/>, <see cref="SetMaxEntries"/>,
/// <see cref="SetAutoload"/>) → <see cref="Load"/> → attach. <see cref="Dispose"/> is the one cleanup path:
/// links first, then the object (SafeHandle reference counts make any other order safe too).
/// </summary>
internal sealed unsafe class BpfObject : IDisposable
{
    private const int KernelLogSize = 1 << 20;

    private readonly BpfObjectHandle _object;
    private readonly byte[] _image;          // libbpf keeps pointers into the ELF image until close
    private readonly GCHandle _imagePin;
    private readonly IntPtr _kernelLog;
    private readonly List<BpfInteriorHandle> _links = new();   // BpfLinkHandle or BpfLinkFdHandle
    private readonly Dictionary<string, BpfProgramHandle> _programs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BpfMapHandle> _maps = new(StringComparer.Ordinal);
    private bool _loaded;
    private bool _disposed;

    public string Name { get; }

    private BpfObject(string name, byte[] image, GCHandle pin, BpfObjectHandle obj, IntPtr kernelLog)
    {
        Name = name;
        _image = image;
        _imagePin = pin;
        _object = obj;
        _kernelLog = kernelLog;
    }

    /// <summary>Opens the resource "<paramref name="name"/>.bpf.o" (compiled by build.ps1).</summary>
    public static BpfObject OpenEmbedded(string name)
    {
        string resource = name + ".bpf.o";
        using Stream? stream = typeof(BpfObject).Assembly.GetManifestResourceStream(resource);
        if (stream is null)
            throw new BpfOperationException($"The eBPF object '{resource}' is not embedded in LeakTools.dll; rebuild with build.ps1.", 2);
        var image = new byte[stream.Length];
        stream.ReadExactly(image);

        // The default print callback writes warnings to our stderr; the verifier log goes to a buffer instead.
        Libbpf.SetPrint(IntPtr.Zero);
        GCHandle pin = GCHandle.Alloc(image, GCHandleType.Pinned);
        IntPtr log = Marshal.AllocHGlobal(KernelLogSize);
        *(byte*)log = 0;
        IntPtr objectName = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            var options = new Libbpf.ObjectOpenOptions
            {
                Size = (nuint)sizeof(Libbpf.ObjectOpenOptions),
                ObjectName = objectName,
                KernelLogBuffer = log,
                KernelLogSize = KernelLogSize,
                KernelLogLevel = 0,   // 0: libbpf fills the buffer only when a load fails
            };
            IntPtr obj = Libbpf.ObjectOpenMem((byte*)pin.AddrOfPinnedObject(), (nuint)image.Length, &options);
            if (obj == IntPtr.Zero)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new BpfOperationException($"libbpf could not open the eBPF object '{resource}': {Libbpf.Describe(errno)}.", errno);
            }
            return new BpfObject(name, image, pin, new BpfObjectHandle(obj), log);
        }
        catch
        {
            pin.Free();
            Marshal.FreeHGlobal(log);
            throw;
        }
        finally
        {
            Marshal.FreeCoTaskMem(objectName);
        }
    }

    public BpfProgramHandle Program(string name)
    {
        ThrowIfDisposed();
        if (_programs.TryGetValue(name, out var existing)) return existing;
        IntPtr program = Libbpf.FindProgramByName(_object.DangerousGetHandle(), name);
        if (program == IntPtr.Zero) throw new BpfOperationException($"The eBPF object '{Name}' has no program '{name}'.", 2);
        return _programs[name] = new BpfProgramHandle(program, _object, name);
    }

    public BpfMapHandle Map(string name)
    {
        ThrowIfDisposed();
        if (_maps.TryGetValue(name, out var existing)) return existing;
        IntPtr map = Libbpf.FindMapByName(_object.DangerousGetHandle(), name);
        if (map == IntPtr.Zero) throw new BpfOperationException($"The eBPF object '{Name}' has no map '{name}'.", 2);
        return _maps[name] = new BpfMapHandle(map, _object, name);
    }

    /// <summary>Writes the settings struct at offset 0 of the map (e.g. ".rodata"); its size must match exactly.</summary>
    public void WriteReadOnlyData<T>(string mapName, in T value) where T : unmanaged
    {
        ThrowIfNotOpened();
        var map = Map(mapName);
        nuint size;
        IntPtr data = Libbpf.MapInitialValue(map.DangerousGetHandle(), &size);
        if (data == IntPtr.Zero || size != (nuint)sizeof(T))
            throw new BpfOperationException(
                $"The map '{mapName}' of '{Name}' holds {size} bytes but {typeof(T).Name} has {sizeof(T)}: native/memleak.h and Bpf/MemleakAbi.cs disagree.", 22);
        *(T*)data = value;   // the initial value is writable until load
    }

    public void SetMaxEntries(string mapName, uint entries)
    {
        ThrowIfNotOpened();
        int rc = Libbpf.MapSetMaxEntries(Map(mapName).DangerousGetHandle(), entries);
        if (rc < 0) throw new BpfOperationException($"Cannot size map '{mapName}' to {entries} entries: {Libbpf.Describe(rc)}.", rc);
    }

    /// <summary>BPF_TRACE_UPROBE_MULTI (enum bpf_attach_type): programs loaded for multi-uprobe links.</summary>
    public const uint AttachTypeUprobeMulti = 48;

    public void SetExpectedAttachType(string programName, uint attachType)
    {
        ThrowIfNotOpened();
        int rc = Libbpf.ProgramSetExpectedAttachType(Program(programName).DangerousGetHandle(), attachType);
        if (rc < 0) throw new BpfOperationException($"Cannot set the attach type of '{programName}': {Libbpf.Describe(rc)}.", rc);
    }

    public void SetMapFlags(string mapName, uint flags)
    {
        ThrowIfNotOpened();
        int rc = Libbpf.MapSetFlags(Map(mapName).DangerousGetHandle(), flags);
        if (rc < 0) throw new BpfOperationException($"Cannot set the flags of map '{mapName}': {Libbpf.Describe(rc)}.", rc);
    }

    public void SetAutoload(string programName, bool autoload)
    {
        ThrowIfNotOpened();
        int rc = Libbpf.ProgramSetAutoload(Program(programName).DangerousGetHandle(), autoload);
        if (rc < 0) throw new BpfOperationException($"Cannot change autoload of '{programName}': {Libbpf.Describe(rc)}.", rc);
    }

    /// <summary>Creates the maps and loads the programs into the kernel (the verifier runs here).</summary>
    public void Load()
    {
        ThrowIfNotOpened();
        int rc = Libbpf.ObjectLoad(_object.DangerousGetHandle());
        if (rc < 0)
        {
            string log = Marshal.PtrToStringUTF8(_kernelLog) ?? "";
            if (log.Length > 4000) log = "..." + log[^4000..];
            throw new BpfOperationException($"The kernel refused to load the eBPF object '{Name}': {Libbpf.Describe(rc)}.", rc, log.Length > 0 ? log : null, duringLoad: true);
        }
        _loaded = true;
    }

    /// <summary>Attaches a uprobe (or uretprobe) at a file offset of <paramref name="binaryPath"/>, for one process (or -1 for all).</summary>
    public BpfLinkHandle AttachUprobe(string programName, int pid, string binaryPath, ulong fileOffset, bool returnProbe, ulong cookie = 0)
    {
        ThrowIfNotLoaded();
        var program = Program(programName);
        var options = new Libbpf.UprobeOptions
        {
            Size = (nuint)sizeof(Libbpf.UprobeOptions),
            Cookie = cookie,
            Retprobe = returnProbe ? (byte)1 : (byte)0,
        };
        IntPtr link = Libbpf.AttachUprobe(program.DangerousGetHandle(), pid, binaryPath, (nuint)fileOffset, &options);
        if (link == IntPtr.Zero)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new BpfOperationException(
                $"Cannot attach {(returnProbe ? "uretprobe" : "uprobe")} '{programName}' to {binaryPath} at file offset 0x{fileOffset:x}: {Libbpf.Describe(errno)}.", errno);
        }
        return Track(link);
    }

    /// <summary>
    /// Attaches a program loaded with <see cref="AttachTypeUprobeMulti"/> through a multi-uprobe link (BPF_LINK_CREATE,
    /// kernel 6.6+; libbpf 1.1 has no wrapper). Unlike perf-event uprobes, these detach without taking the kernel's
    /// global trace-event mutex, so several links detach in one grace period.
    /// </summary>
    public BpfLinkFdHandle AttachUprobeMulti(string programName, int pid, string binaryPath, ulong fileOffset, bool returnProbe, ulong cookie = 0)
    {
        ThrowIfNotLoaded();
        const int BpfLinkCreate = 28;
        int progFd = Libbpf.ProgramFd(Program(programName).DangerousGetHandle());
        IntPtr path = Marshal.StringToCoTaskMemUTF8(binaryPath);
        try
        {
            ulong offset = fileOffset, cookieValue = cookie;
            byte* attr = stackalloc byte[64];
            new Span<byte>(attr, 64).Clear();
            *(uint*)(attr + 0) = (uint)progFd;                      // link_create.prog_fd
            *(uint*)(attr + 8) = AttachTypeUprobeMulti;              // link_create.attach_type
            *(ulong*)(attr + 16) = (ulong)path;                      // uprobe_multi.path
            *(ulong*)(attr + 24) = (ulong)&offset;                   // uprobe_multi.offsets
            *(ulong*)(attr + 40) = (ulong)&cookieValue;              // uprobe_multi.cookies
            *(uint*)(attr + 48) = 1;                                 // uprobe_multi.cnt
            *(uint*)(attr + 52) = returnProbe ? 1u : 0u;             // uprobe_multi.flags: BPF_F_UPROBE_MULTI_RETURN
            *(uint*)(attr + 56) = (uint)Math.Max(0, pid);            // uprobe_multi.pid
            int fd = LinuxSyscalls.Bpf(BpfLinkCreate, attr, 64);
            if (fd < 0)
                throw new BpfOperationException(
                    $"Cannot attach {(returnProbe ? "uretprobe" : "uprobe")} '{programName}' to {binaryPath} at file offset 0x{fileOffset:x}: {Libbpf.Describe(fd)}.", fd);
            var handle = new BpfLinkFdHandle(fd, _object);
            _links.Add(handle);
            return handle;
        }
        finally
        {
            Marshal.FreeCoTaskMem(path);
        }
    }

    /// <summary>Attaches a program the way its SEC() name says (tracepoints).</summary>
    public BpfLinkHandle Attach(string programName)
    {
        ThrowIfNotLoaded();
        IntPtr link = Libbpf.Attach(Program(programName).DangerousGetHandle());
        if (link == IntPtr.Zero)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new BpfOperationException($"Cannot attach '{programName}': {Libbpf.Describe(errno)}.", errno);
        }
        return Track(link);
    }

    /// <summary>
    /// Runs a loaded raw_tp program once on <paramref name="cpu"/> (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU:
    /// the kernel runs it there in an IPI). Returns the program's return value, or -errno.
    /// </summary>
    public int RunOnCpu(string programName, int cpu)
    {
        ThrowIfNotLoaded();
        const int BpfProgTestRun = 10, TestRunOnCpu = 1;
        int progFd = Libbpf.ProgramFd(Program(programName).DangerousGetHandle());
        byte* attr = stackalloc byte[80];
        new Span<byte>(attr, 80).Clear();
        *(uint*)(attr + 0) = (uint)progFd;   // test.prog_fd
        *(uint*)(attr + 64) = TestRunOnCpu;  // test.flags
        *(uint*)(attr + 68) = (uint)cpu;     // test.cpu
        int rc = LinuxSyscalls.Bpf(BpfProgTestRun, attr, 80);
        return rc < 0 ? rc : (int)*(uint*)(attr + 4);   // test.retval
    }

    /// <summary>Maps a loaded ring buffer map of <paramref name="dataBytes"/> (its max_entries) for reading in place.</summary>
    public RingBufferReader MapRingBuffer(string mapName, uint dataBytes)
    {
        ThrowIfNotLoaded();
        int fd = Map(mapName).Fd;
        nuint page = (nuint)Environment.SystemPageSize;
        nuint producerLength = page + 2 * (nuint)dataBytes;   // the data pages are mapped twice, back to back
        IntPtr consumer = LinuxSyscalls.Mmap(IntPtr.Zero, page, LinuxSyscalls.ProtRead | LinuxSyscalls.ProtWrite, LinuxSyscalls.MapShared, fd, 0);
        if (consumer == LinuxSyscalls.MapFailed) throw MapFailed(mapName);
        IntPtr producer = LinuxSyscalls.Mmap(IntPtr.Zero, producerLength, LinuxSyscalls.ProtRead, LinuxSyscalls.MapShared, fd, (long)page);
        if (producer == LinuxSyscalls.MapFailed)
        {
            var error = MapFailed(mapName);
            LinuxSyscalls.Munmap(consumer, page);
            throw error;
        }
        return new RingBufferReader(new RingBufferMapping(consumer, page, producer, producerLength, _object), dataBytes);
    }

    private static BpfOperationException MapFailed(string mapName)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new BpfOperationException($"Cannot map the ring buffer '{mapName}': {Libbpf.Describe(errno)}.", errno);
    }

    private BpfLinkHandle Track(IntPtr link)
    {
        var handle = new BpfLinkHandle(link, _object);
        _links.Add(handle);
        return handle;
    }

    /// <summary>
    /// Detaches every probe of this object now (the object stays loaded). Each uprobe detach waits for a grace
    /// period in the kernel; multi-uprobe links are released from several threads so their waits overlap
    /// (perf-event uprobes serialize on a kernel mutex, so for them threads would not help).
    /// </summary>
    public void DetachAll()
    {
        BpfInteriorHandle[] links = _links.ToArray();
        _links.Clear();
        int workers = Math.Min(links.Length, 32);
        if (workers <= 1 || Array.TrueForAll(links, l => l is BpfLinkHandle))
        {
            foreach (var link in links) link.Dispose();
            return;
        }
        var threads = new System.Threading.Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            int first = w;
            threads[w] = new System.Threading.Thread(() =>
            {
                for (int i = first; i < links.Length; i += workers) links[i].Dispose();
            }) { IsBackground = true, Name = "LeakTools detach" };
            threads[w].Start();
        }
        foreach (var thread in threads) thread.Join();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DetachAll();
        foreach (var map in _maps.Values) map.Dispose();
        foreach (var program in _programs.Values) program.Dispose();
        _object.Dispose();
        if (_imagePin.IsAllocated) _imagePin.Free();
        Marshal.FreeHGlobal(_kernelLog);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void ThrowIfNotOpened()
    {
        ThrowIfDisposed();
        if (_loaded) throw new InvalidOperationException($"'{Name}' is already loaded; settings must be made before Load().");
    }

    private void ThrowIfNotLoaded()
    {
        ThrowIfDisposed();
        if (!_loaded) throw new InvalidOperationException($"'{Name}' must be loaded before attaching.");
    }
}
