# Native executables built by build.ps1 (eBPF programs, native/*.bpf.c, are found by name).
# Each entry: Name, Sources (relative to native/), optional Flags, Libraries, and Output = 'bin'
# for programs the module runs at run time (default output: native/build).
@{
    Executables = @(
        @{ Name = 'leaktools-launch'; Sources = @('launcher/leaktools-launch.c'); Output = 'bin' }
    )
}
