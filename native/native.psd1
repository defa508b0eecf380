# Native executables built by build.ps1 (eBPF programs, native/*.bpf.c, are found by name).
# Each entry: Name, Sources (relative to native/), optional Flags, Libraries, and Output = 'bin'
# for programs the module runs at run time (default output: native/build).
@{
    Executables = @(
        @{ Name = 'leaktools-launch'; Sources = @('launcher/leaktools-launch.c'); Output = 'bin' }
        # Holds a target still for Find-MemoryLeak -Verdict (native/pause/leaktools-pause.c).
        @{ Name = 'leaktools-pause'; Sources = @('pause/leaktools-pause.c'); Output = 'bin' }
        # The leaking app of `build.ps1 Demo` (scripts/Demo.ps1).
        # Plain -O2, no frame pointers (as distributions build): its stack comes from the unwind tables.
        @{ Name = 'fibonacci'; Sources = @('demo/fibonacci.c'); Flags = @('-O2', '-g', '-fomit-frame-pointer', '-pthread') }
        # Benchmark programs run by scripts/Bench.ps1 (build.ps1 Bench).
        @{ Name = 'allocbench'; Sources = @('bench/allocbench.c'); Flags = @('-O2', '-g', '-fomit-frame-pointer', '-fno-builtin', '-pthread') }
        @{ Name = 'outstanding'; Sources = @('bench/outstanding.c'); Flags = @('-O0', '-g', '-fno-omit-frame-pointer', '-fno-inline') }
        @{ Name = 'manymaps'; Sources = @('bench/manymaps.c'); Flags = @('-O2', '-g') }
        @{ Name = 'firsttouch'; Sources = @('bench/firsttouch.c'); Flags = @('-O2') }
    )
}
