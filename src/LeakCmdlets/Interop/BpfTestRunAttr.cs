using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>
/// union bpf_attr as BPF_PROG_TEST_RUN reads it: the <c>test</c> member (include/uapi/linux/bpf.h).
/// MemleakAbiTests compares the offsets with the running kernel's BTF.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BpfTestRunAttr
{
    public uint ProgramFd;       // test.prog_fd
    public uint ReturnValue;     // test.retval (out)
    public uint DataSizeIn;      // test.data_size_in
    public uint DataSizeOut;     // test.data_size_out
    public ulong DataIn;         // test.data_in
    public ulong DataOut;        // test.data_out
    public uint Repeat;          // test.repeat
    public uint Duration;        // test.duration (out)
    public uint ContextSizeIn;   // test.ctx_size_in
    public uint ContextSizeOut;  // test.ctx_size_out
    public ulong ContextIn;      // test.ctx_in
    public ulong ContextOut;     // test.ctx_out
    public uint Flags;           // test.flags
    public uint Cpu;             // test.cpu
    public uint BatchSize;       // test.batch_size
    private uint _padding;

    /// <summary>BPF_F_TEST_RUN_ON_CPU: run on <see cref="Cpu"/> rather than the caller's CPU.</summary>
    public const uint RunOnCpu = 1;
}
