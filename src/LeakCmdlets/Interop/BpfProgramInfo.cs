using System.Runtime.InteropServices;

namespace LeakTools.Interop;

/// <summary>
/// struct bpf_prog_info (linux/bpf.h) up to verified_insns (kernel 5.16+), the part BPF_OBJ_GET_INFO_BY_FD fills for
/// <see cref="Bpf.BpfObject.ProgramStatistics"/>; the kernel copies no more than the length given. Pointer fields stay
/// 0, so it writes no arrays. MemleakAbiTests compares the offsets with the running kernel's BTF.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 224)]
internal struct BpfProgramInfo
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public uint Id;
    [FieldOffset(16)] public uint JitedProgramLength;       // bytes of machine code
    [FieldOffset(20)] public uint TranslatedProgramLength;  // bytes of BPF after the verifier's rewrites
    [FieldOffset(216)] public uint VerifiedInstructions;    // instructions the verifier processed
    [FieldOffset(220)] public uint AttachBtfObjectId;
}
