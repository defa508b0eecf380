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
    private const int StatisticsLogSize = 16 << 10;
    private const uint LogLevelStatistics = 4;   // BPF_LOG_STATS
    private static readonly System.Text.RegularExpressions.Regex VerificationTimeLine = new(@"verification time (\d+) usec");
    private readonly Dictionary<string, IntPtr> _statisticsLogs = new(StringComparer.Ordinal);

    private readonly BpfObjectHandle _object;
    private readonly byte[] _image;          // libbpf keeps pointers into the ELF image until close
    private readonly GCHandle _imagePin;
    private readonly IntPtr _kernelLog;
    // BpfLinkHandle or BpfLinkFdHandle, and whether it is a return probe (those are detached last).
    private readonly List<(BpfInteriorHandle Link, bool ReturnProbe)> _links = new();
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

    /// <summary>
    /// Opens the resource "<paramref name="name"/>.bpf.o" (compiled by build.ps1) and checks its maps against
    /// <see cref="MemleakAbi.MapLayouts"/>.
    /// </summary>
    public static BpfObject OpenEmbedded(string name)
    {
        string resource = name + ".bpf.o";
        using Stream? stream = typeof(BpfObject).Assembly.GetManifestResourceStream(resource);
        if (stream is null)
            throw new BpfOperationException($"The eBPF object '{resource}' is not embedded in LeakTools.dll; rebuild with build.ps1.", Errno.ENOENT);
        var image = new byte[stream.Length];
        stream.ReadExactly(image);
        return Open(name, image, MemleakAbi.MapLayouts(name));
    }

    /// <summary>
    /// Opens an eBPF object from its ELF image, then checks that each map in <paramref name="layouts"/> declares
    /// the key and value sizes of its C# mirror: a mismatch is a <see cref="BpfOperationException"/> naming the map.
    /// </summary>
    internal static BpfObject Open(string name, byte[] image, IReadOnlyList<BpfMapLayout> layouts)
    {
        string resource = name + ".bpf.o";
        // The default print callback writes warnings to our stderr; the verifier log goes to a buffer instead.
        Libbpf.SetPrint(IntPtr.Zero);
        GCHandle pin = GCHandle.Alloc(image, GCHandleType.Pinned);
        IntPtr log = Marshal.AllocHGlobal(KernelLogSize);
        *(byte*)log = 0;
        IntPtr objectName = Marshal.StringToCoTaskMemUTF8(name);
        BpfObject bpf;
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
                throw new BpfOperationException($"libbpf could not open the eBPF object '{resource}': {ErrnoMessage.Describe(errno)}.", errno);
            }
            bpf = new BpfObject(name, image, pin, new BpfObjectHandle(obj), log);
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
        try
        {
            foreach (var layout in layouts) bpf.CheckLayout(layout);
            return bpf;
        }
        catch
        {
            bpf.Dispose();
            throw;
        }
    }

    /// <summary>Checks that the map <paramref name="layout"/> names declares the key and value sizes user space reads it with.</summary>
    private BpfMapHandle CheckLayout(BpfMapLayout layout)
    {
        var map = Map(layout.Name);
        uint keySize = Libbpf.MapKeySize(map.DangerousGetHandle());
        uint valueSize = Libbpf.MapValueSize(map.DangerousGetHandle());
        if (keySize != layout.KeySize || valueSize != layout.ValueSize)
            throw new BpfOperationException(
                $"The map '{layout.Name}' of the eBPF object '{Name}' declares {keySize}-byte keys and {valueSize}-byte values, " +
                $"but LeakTools reads it with {layout.KeySize}-byte keys and {layout.ValueSize}-byte values: native/memleak.h and Bpf/MemleakAbi.cs disagree.",
                Errno.EINVAL);
        return map;
    }

    /// <summary>A loaded hash map, read with the key and value types it was checked against.</summary>
    public BpfHashMap<TKey, TValue> HashMap<TKey, TValue>(string mapName) where TKey : unmanaged where TValue : unmanaged
    {
        ThrowIfNotLoaded();
        return new BpfHashMap<TKey, TValue>(mapName, CheckLayout(BpfMapLayout.Of<TKey, TValue>(mapName)).Fd);
    }

    /// <summary>A loaded per-CPU array of u64 counters (u32 keys).</summary>
    public BpfPerCpuArray PerCpuCounters(string mapName)
    {
        ThrowIfNotLoaded();
        return new BpfPerCpuArray(mapName, CheckLayout(BpfMapLayout.Of<uint, ulong>(mapName)).Fd, PossibleCpus());
    }

    /// <summary>How many CPUs the kernel may ever bring online: the length of a per-CPU map's value array.</summary>
    public static int PossibleCpus()
    {
        int cpus = Libbpf.NumPossibleCpus();
        if (cpus <= 0) throw new IOException($"libbpf cannot count the possible CPUs: {ErrnoMessage.Describe(cpus)}.");
        return cpus;
    }

    public BpfProgramHandle Program(string name)
    {
        ThrowIfDisposed();
        if (_programs.TryGetValue(name, out var existing)) return existing;
        IntPtr program = Libbpf.FindProgramByName(_object.DangerousGetHandle(), name);
        if (program == IntPtr.Zero) throw new BpfOperationException($"The eBPF object '{Name}' has no program '{name}'.", Errno.ENOENT);
        return _programs[name] = new BpfProgramHandle(program, _object, name);
    }

    public BpfMapHandle Map(string name)
    {
        ThrowIfDisposed();
        if (_maps.TryGetValue(name, out var existing)) return existing;
        IntPtr map = Libbpf.FindMapByName(_object.DangerousGetHandle(), name);
        if (map == IntPtr.Zero) throw new BpfOperationException($"The eBPF object '{Name}' has no map '{name}'.", Errno.ENOENT);
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
                $"The map '{mapName}' of '{Name}' holds {size} bytes but {typeof(T).Name} has {sizeof(T)}: native/memleak.h and Bpf/MemleakAbi.cs disagree.", Errno.EINVAL);
        *(T*)data = value;   // the initial value is writable until load
    }

    public void SetMaxEntries(string mapName, uint entries)
    {
        ThrowIfNotOpened();
        int rc = Libbpf.MapSetMaxEntries(Map(mapName).DangerousGetHandle(), entries);
        if (rc < 0) throw new BpfOperationException($"Cannot size map '{mapName}' to {entries} entries: {ErrnoMessage.Describe(rc)}.", rc);
    }

    /// <summary>BPF_TRACE_UPROBE_MULTI (enum bpf_attach_type): programs loaded for multi-uprobe links.</summary>
    public const uint AttachTypeUprobeMulti = 48;

    public void SetExpectedAttachType(string programName, uint attachType)
    {
        ThrowIfNotOpened();
        int rc = Libbpf.ProgramSetExpectedAttachType(Program(programName).DangerousGetHandle(), attachType);
        if (rc < 0) throw new BpfOperationException($"Cannot set the attach type of '{programName}': {ErrnoMessage.Describe(rc)}.", rc);
    }

    public void SetMapFlags(string mapName, uint flags)
    {
        ThrowIfNotOpened();
        int rc = Libbpf.MapSetFlags(Map(mapName).DangerousGetHandle(), flags);
        if (rc < 0) throw new BpfOperationException($"Cannot set the flags of map '{mapName}': {ErrnoMessage.Describe(rc)}.", rc);
    }

    public void SetAutoload(string programName, bool autoload)
    {
        ThrowIfNotOpened();
        int rc = Libbpf.ProgramSetAutoload(Program(programName).DangerousGetHandle(), autoload);
        if (rc < 0) throw new BpfOperationException($"Cannot change autoload of '{programName}': {ErrnoMessage.Describe(rc)}.", rc);
    }

    /// <summary>
    /// Before <see cref="Load"/>: the verifier writes each program's statistics (BPF_LOG_STATS: its time, the
    /// instructions it processed) into a buffer of the program's own, read by <see cref="ProgramStatistics"/>.
    /// For measurements: a failed load then logs into those buffers, not into the object's.
    /// </summary>
    public void RecordVerifierStatistics()
    {
        ThrowIfNotOpened();
        foreach (var (name, program) in ListPrograms())
        {
            if (_statisticsLogs.ContainsKey(name)) continue;
            IntPtr log = Marshal.AllocHGlobal(StatisticsLogSize);
            *(byte*)log = 0;
            _statisticsLogs[name] = log;
            int rc = Libbpf.ProgramSetLogBuffer(program, log, StatisticsLogSize);
            if (rc == 0) rc = Libbpf.ProgramSetLogLevel(program, LogLevelStatistics);
            if (rc < 0) throw new BpfOperationException($"Cannot ask for the verifier statistics of '{name}': {ErrnoMessage.Describe(rc)}.", rc);
        }
    }

    /// <summary>
    /// After <see cref="Load"/>: each loaded program's size and the instructions the verifier processed, read with
    /// BPF_OBJ_GET_INFO_BY_FD, and its verification time when <see cref="RecordVerifierStatistics"/> was called.
    /// </summary>
    public IReadOnlyList<BpfProgramStatistics> ProgramStatistics()
    {
        ThrowIfNotLoaded();
        var result = new List<BpfProgramStatistics>();
        foreach (var (name, program) in ListPrograms())
        {
            int fd = Libbpf.ProgramFd(program);
            if (fd < 0) continue;   // not loaded (autoload off)
            var info = default(BpfProgramInfo);
            uint length = (uint)sizeof(BpfProgramInfo);
            int rc = Libbpf.ObjectGetInfoByFd(fd, &info, &length);
            if (rc < 0) throw new BpfOperationException($"Cannot read the information of the program '{name}': {ErrnoMessage.Describe(rc)}.", rc);
            TimeSpan? time = null;
            if (_statisticsLogs.TryGetValue(name, out IntPtr log)
                && VerificationTimeLine.Match(Marshal.PtrToStringUTF8(log) ?? "") is { Success: true } match)
                time = TimeSpan.FromMicroseconds(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            result.Add(new BpfProgramStatistics(name, info.VerifiedInstructions, info.TranslatedProgramLength / 8, info.JitedProgramLength, time));
        }
        return result;
    }

    private List<(string Name, IntPtr Program)> ListPrograms()
    {
        var programs = new List<(string, IntPtr)>();
        for (IntPtr p = Libbpf.ObjectNextProgram(_object.DangerousGetHandle(), IntPtr.Zero); p != IntPtr.Zero;
             p = Libbpf.ObjectNextProgram(_object.DangerousGetHandle(), p))
            programs.Add((Marshal.PtrToStringUTF8(Libbpf.ProgramName(p)) ?? "", p));
        return programs;
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
            throw new BpfOperationException($"The kernel refused to load the eBPF object '{Name}': {ErrnoMessage.Describe(rc)}.", rc, log.Length > 0 ? log : null, duringLoad: true);
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
                $"Cannot attach {(returnProbe ? "uretprobe" : "uprobe")} '{programName}' to {binaryPath} at file offset 0x{fileOffset:x}: {ErrnoMessage.Describe(errno)}.", errno);
        }
        return Track(link, returnProbe);
    }

    /// <summary>
    /// Attaches a program to an open perf event (a tracefs uprobe event opened by <see cref="Tracing.InheritedUprobes"/>).
    /// The link owns <paramref name="perfEventFd"/> from here on, also when the attach fails (it is closed then).
    /// </summary>
    public BpfLinkHandle AttachPerfEvent(string programName, int perfEventFd, bool returnProbe, ulong cookie = 0)
    {
        ThrowIfNotLoaded();
        var options = new Libbpf.PerfEventOptions { Size = (nuint)sizeof(Libbpf.PerfEventOptions), Cookie = cookie };
        IntPtr link = Libbpf.AttachPerfEvent(Program(programName).DangerousGetHandle(), perfEventFd, &options);
        if (link == IntPtr.Zero)
        {
            int errno = Marshal.GetLastPInvokeError();
            LinuxSyscalls.Close(perfEventFd);
            throw new BpfOperationException($"Cannot attach '{programName}' to its perf event: {ErrnoMessage.Describe(errno)}.", errno);
        }
        return Track(link, returnProbe);
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
        IntPtr path = Marshal.StringToCoTaskMemUTF8(binaryPath);
        try
        {
            ulong offset = fileOffset, cookieValue = cookie;
            var attr = new BpfLinkCreateAttr
            {
                ProgramFd = (uint)Libbpf.ProgramFd(Program(programName).DangerousGetHandle()),
                AttachType = AttachTypeUprobeMulti,
                Path = (ulong)path,
                Offsets = (ulong)&offset,
                Cookies = (ulong)&cookieValue,
                Count = 1,
                UprobeMultiFlags = returnProbe ? BpfLinkCreateAttr.UprobeMultiReturn : 0,
                Pid = (uint)Math.Max(0, pid),
            };
            int fd = LinuxSyscalls.Bpf(BpfLinkCreate, ref attr);
            if (fd < 0)
                throw new BpfOperationException(
                    $"Cannot attach {(returnProbe ? "uretprobe" : "uprobe")} '{programName}' to {binaryPath} at file offset 0x{fileOffset:x}: {ErrnoMessage.Describe(fd)}.", fd);
            var handle = new BpfLinkFdHandle(fd, _object);
            _links.Add((handle, returnProbe));
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
            throw new BpfOperationException($"Cannot attach '{programName}': {ErrnoMessage.Describe(errno)}.", errno);
        }
        return Track(link, returnProbe: false);
    }

    /// <summary>
    /// Runs a loaded raw_tp program once on <paramref name="cpu"/> (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU:
    /// the kernel runs it there in an IPI). Returns the program's return value, or -errno.
    /// </summary>
    public int RunOnCpu(string programName, int cpu)
    {
        ThrowIfNotLoaded();
        const int BpfProgTestRun = 10;
        var attr = new BpfTestRunAttr
        {
            ProgramFd = (uint)Libbpf.ProgramFd(Program(programName).DangerousGetHandle()),
            Flags = BpfTestRunAttr.RunOnCpu,
            Cpu = (uint)cpu,
        };
        int rc = LinuxSyscalls.Bpf(BpfProgTestRun, ref attr);
        return rc < 0 ? rc : (int)attr.ReturnValue;
    }

    /// <summary>
    /// Runs a loaded syscall program once with <paramref name="context"/> as its argument (BPF_PROG_TEST_RUN).
    /// Returns the program's return value, or -errno.
    /// </summary>
    public unsafe int Run<TContext>(string programName, TContext context) where TContext : unmanaged
    {
        ThrowIfNotLoaded();
        const int BpfProgTestRun = 10;
        var attr = new BpfTestRunAttr
        {
            ProgramFd = (uint)Libbpf.ProgramFd(Program(programName).DangerousGetHandle()),
            ContextSizeIn = (uint)sizeof(TContext),
            ContextIn = (ulong)&context,
        };
        int rc = LinuxSyscalls.Bpf(BpfProgTestRun, ref attr);
        return rc < 0 ? rc : (int)attr.ReturnValue;
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

    /// <summary>Maps a loaded BPF_F_MMAPABLE array (all its max_entries elements of <paramref name="elementSize"/> bytes) read-write.</summary>
    public BpfArrayMapping MapArray(string mapName, int elementSize)
    {
        ThrowIfNotLoaded();
        var map = Map(mapName);
        uint valueSize = Libbpf.MapValueSize(map.DangerousGetHandle());
        uint entries = Libbpf.MapMaxEntries(map.DangerousGetHandle());
        if (valueSize != (uint)elementSize)
            throw new BpfOperationException($"The map '{mapName}' of '{Name}' holds {valueSize}-byte values, not {elementSize}: native/memleak.h and Bpf/MemleakAbi.cs disagree.", Errno.EINVAL);
        nuint page = (nuint)Environment.SystemPageSize;
        nuint length = ((nuint)entries * (nuint)elementSize + page - 1) / page * page;
        IntPtr address = LinuxSyscalls.Mmap(IntPtr.Zero, length, LinuxSyscalls.ProtRead | LinuxSyscalls.ProtWrite, LinuxSyscalls.MapShared, map.Fd, 0);
        if (address == LinuxSyscalls.MapFailed)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new BpfOperationException($"Cannot map the array '{mapName}': {ErrnoMessage.Describe(errno)}.", errno);
        }
        return new BpfArrayMapping(address, length, elementSize, entries, mapName, _object);
    }

    private static BpfOperationException MapFailed(string mapName)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new BpfOperationException($"Cannot map the ring buffer '{mapName}': {ErrnoMessage.Describe(errno)}.", errno);
    }

    private BpfLinkHandle Track(IntPtr link, bool returnProbe)
    {
        var handle = new BpfLinkHandle(link, _object);
        _links.Add((handle, returnProbe));
        return handle;
    }

    /// <summary>
    /// Detaches every probe of this object now (the object stays loaded): entry probes first, return probes after
    /// them, so no call can enter through a probe whose return probe is already gone (the next entry on that thread
    /// would count a missed return that the trace never had). Each uprobe detach waits for a grace period in the
    /// kernel; multi-uprobe links are released from several threads so their waits overlap (perf-event uprobes
    /// serialize on a kernel mutex, so for them threads would not help).
    /// </summary>
    public void DetachAll() => DetachRange(0, _links.Count);

    /// <summary>How many probes are attached: a mark for <see cref="DetachRange"/>.</summary>
    public int AttachedLinks => _links.Count;

    /// <summary>
    /// Detaches the <paramref name="count"/> probes attached from the <paramref name="first"/>-th on, as
    /// <see cref="DetachAll"/> does, and keeps the others (a sampled trace attaches its next probes before it lets go
    /// of the last ones, and keeps the tracepoints attached before its probes).
    /// </summary>
    public void DetachRange(int first, int count)
    {
        first = Math.Min(first, _links.Count);
        var links = _links.GetRange(first, Math.Min(count, _links.Count - first)).ToArray();
        _links.RemoveRange(first, links.Length);
        Release(Array.ConvertAll(Array.FindAll(links, l => !l.ReturnProbe), l => l.Link));
        Release(Array.ConvertAll(Array.FindAll(links, l => l.ReturnProbe), l => l.Link));
    }

    private static void Release(BpfInteriorHandle[] links)
    {
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
        foreach (IntPtr log in _statisticsLogs.Values) Marshal.FreeHGlobal(log);
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
