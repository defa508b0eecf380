# Native executables built by build.ps1 (eBPF programs, native/*.bpf.c, are found by name).
# Each entry: Name, Sources (relative to native/), optional Flags, Libraries, and Output = 'bin'
# for programs the module runs at run time (default output: native/build).
@{
    Executables = @(
        @{ Name = 'leaktools-launch'; Sources = @('launcher/leaktools-launch.c'); Output = 'bin' }
        # The leaking app of `build.ps1 Demo` (scripts/Demo.ps1).
        @{ Name = 'fibonacci'; Sources = @('demo/fibonacci.c'); Flags = @('-O1', '-g', '-fno-omit-frame-pointer', '-fno-inline', '-pthread') }
    )
}
