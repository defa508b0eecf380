#Requires -Version 7.4
<#
.SYNOPSIS
    Measures what each of the tracer's BPF programs costs per run, by configuration.
.DESCRIPTION
    Runs native/build/allocbench (one thread, malloc(64)/free pairs) under each configuration in turn: the floor
    probe, the tracer without stacks, the tracer, and the tracer streaming events. The kernel's own BPF statistics
    (sysctl kernel.bpf_stats_enabled, switched on for the run and restored after) give the time spent inside
    each program per run. Prints ns per run per program and allocbench's ns per pair. Statistics add about
    20 ns to every program run, so the pair times are higher than build.ps1 Bench's; compare configurations
    with each other, and take overhead figures from build.ps1 Bench. Needs root and a built module.
.EXAMPLE
    dotnet pwsh ./scripts/Measure-ProgramCost.ps1 -Seconds 4
#>
[CmdletBinding()]
param(
    [ValidateSet('Floor', 'NoStacks', 'Stacks', 'Stream')]
    [string[]] $Configuration = @('Floor', 'NoStacks', 'Stacks', 'Stream'),
    [ValidateRange(1, 60)]
    [int] $Seconds = 4
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
Import-Module (Join-Path $root 'LeakTools.psd1') -Force
$exe = Join-Path $root 'native/build/allocbench'
if (-not (Test-Path $exe)) { throw "Build first (dotnet pwsh ./build.ps1 Build): $exe is missing." }

$statsBefore = (Get-Content /proc/sys/kernel/bpf_stats_enabled).Trim()
& sysctl -qw kernel.bpf_stats_enabled=1
try {
    foreach ($name in $Configuration) {
        $psi = [Diagnostics.ProcessStartInfo]::new($exe, [string[]]@('-t', '1', '-s', "$Seconds", '-w', '60'))
        $psi.RedirectStandardOutput = $true
        $bench = [Diagnostics.Process]::Start($psi)
        $tracer = $null
        try {
            $null = $bench.StandardOutput.ReadLine()   # "ready": it starts once malloc and free carry a uprobe
            $options = [LeakTools.Tracing.AllocationTracerOptions]@{ ProcessId = $bench.Id }
            switch ($name) {
                'Floor' { $options.CountOnly = $true }
                'NoStacks' { $options.CaptureStacks = $false }
                'Stream' { $options.StreamEvents = $true; $options.TrackOutstanding = $false }   # as Watch-Allocation
            }
            $tracer = [LeakTools.Tracing.AllocationTracer]::Start($options)
            if ($name -eq 'Stream') {
                # Consume like Watch-Allocation does, minus the PowerShell objects.
                $consumer = [Threading.Tasks.Task]::Run([Action] {
                        $record = [LeakTools.Tracing.AllocationRecord]::new()
                        while (-not $bench.HasExited) { $null = $tracer.TryTakeEvent([ref] $record, 100) }
                    }.GetNewClosure())
            }
            if (-not $bench.WaitForExit(($Seconds + 30) * 1000)) { throw 'allocbench did not finish.' }
            $line = $bench.StandardOutput.ReadToEnd() -split '\r?\n' | Where-Object { $_ -match 'ns_per_pair=([\d.]+)' } | Select-Object -Last 1
            $perPair = if ($line -match 'ns_per_pair=([\d.]+)') { [double]$Matches[1] } else { [double]::NaN }
            $programs = @(& bpftool -j prog show | ConvertFrom-Json | Where-Object {
                    $_.PSObject.Properties['run_cnt'] -and $_.run_cnt -gt 1000 -and $_.name -match '^(memleak|allocount)__'
                })
            foreach ($p in $programs) {
                [pscustomobject]@{
                    Configuration = $name
                    Program       = $p.name
                    Runs          = $p.run_cnt
                    NsPerRun      = [math]::Round($p.run_time_ns / $p.run_cnt, 1)
                    NsPerPair     = [math]::Round($perPair, 0)
                }
            }
        }
        finally {
            if ($tracer) { $tracer.Dispose() }
            if (-not $bench.HasExited) { $bench.Kill() }
        }
    }
}
finally { & sysctl -qw "kernel.bpf_stats_enabled=$statsBefore" }
