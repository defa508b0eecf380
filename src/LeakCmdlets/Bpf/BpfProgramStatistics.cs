using System;

namespace LeakTools.Bpf;

/// <summary>
/// What the kernel says of one loaded eBPF program (for measurements: scripts/Bench.ps1, section Unwind).
/// </summary>
/// <param name="Name">The program's name in the object (its C function).</param>
/// <param name="VerifiedInstructions">Instructions the verifier processed (bpf_prog_info.verified_insns; the limit is 1,000,000).</param>
/// <param name="TranslatedInstructions">Size of the program after the verifier's rewrites, in BPF instructions.</param>
/// <param name="JitedBytes">Size of its machine code.</param>
/// <param name="VerificationTime">The verifier's own time for it (its BPF_LOG_STATS line), when statistics were recorded.</param>
public sealed record BpfProgramStatistics(string Name, uint VerifiedInstructions, uint TranslatedInstructions, uint JitedBytes, TimeSpan? VerificationTime);
