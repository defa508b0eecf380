#Requires -Version 7.4
<#
.SYNOPSIS
    What an untraced process pays while LeakTools follows a process tree: allocbench's malloc(64)/free pairs in a
    process nobody traces, with no tracer, and with a tracer on another process attached per pid (as -Id attaches),
    through inherited uprobe events (as -Command and -IncludeChildren attach) and per inode (the rejected design),
    interleaved.

.DESCRIPTION
    The traced process is a `sleep` (it maps the same libc and makes no allocator calls). Per inode, every process
    that maps libc carries the probes and takes their traps; the BPF programs return at once for a process that is
    not in their "traced" map. Inherited uprobe events put the breakpoints in the traced tree's address spaces only. Prints one row per configuration: the median ns per pair over -Repeat runs and its
    ratio to the untraced median. Needs root and a built module (build.ps1 Build).

.EXAMPLE
    dotnet pwsh ./scripts/Measure-ProcessTreeCost.ps1 -Repeat 5
#>
[CmdletBinding()]
param(
    [int] $Repeat = 5,
    [int] $Pairs = 2000000
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = Resolve-Path "$PSScriptRoot/.."
Import-Module "$root/LeakTools.psd1" -Force
$allocbench = Join-Path $root 'native/build/allocbench'

# Per inode a pair costs microseconds, so that case runs a hundredth of the pairs (the result is per pair).
function Measure-Pairs([int] $Count = $Pairs) {
    $line = & $allocbench -t 1 -n $Count | Select-Object -Last 1
    [double](($line -split ' ' | Where-Object { $_ -like 'ns_per_pair=*' }) -replace 'ns_per_pair=', '')
}

# How the tracer attaches: as -Id does (per pid), as -Command/-IncludeChildren do (inherited uprobe events), or
# per inode (every process that maps libc carries the probes; the BPF filter drops the untraced).
function Start-Tracer([int] $TargetId, [string] $Mode) {
    $env:LEAKTOOLS_PER_INODE_UPROBES = if ($Mode -eq 'per inode') { '1' } else { $null }
    try {
        $options = [LeakTools.Tracing.AllocationTracerOptions]@{ ProcessId = $TargetId; FollowChildren = $Mode -ne 'per pid' }
        [LeakTools.Tracing.AllocationTracer]::Start($options)
    }
    finally { $env:LEAKTOOLS_PER_INODE_UPROBES = $null }
}

$target = Start-Process sleep -ArgumentList 600 -PassThru
try {
    Start-Sleep -Milliseconds 200
    $modes = 'per pid', 'inherited', 'per inode'
    $samples = [ordered]@{ 'untraced' = @() }
    foreach ($mode in $modes) { $samples["tracer on another process, $mode"] = @() }
    for ($i = 0; $i -lt $Repeat; $i++) {
        $samples['untraced'] += Measure-Pairs
        foreach ($mode in $modes) {
            $tracer = Start-Tracer $target.Id $mode
            try { $samples["tracer on another process, $mode"] += Measure-Pairs ($mode -eq 'per inode' ? [Math]::Max(1000, $Pairs / 100) : $Pairs) }
            finally { $tracer.Dispose() }
        }
    }
    $base = ($samples['untraced'] | Sort-Object)[[int][Math]::Floor($Repeat / 2)]
    foreach ($name in $samples.Keys) {
        $median = ($samples[$name] | Sort-Object)[[int][Math]::Floor($Repeat / 2)]
        [pscustomobject]@{
            Configuration = $name
            NsPerPair = [Math]::Round($median, 1)
            Ratio = [Math]::Round($median / $base, 2)
            Samples = ($samples[$name] | ForEach-Object { [Math]::Round($_, 1) }) -join ', '
        }
    }
}
finally {
    if (-not $target.HasExited) { $target.Kill() }
}
