#Requires -Version 7.4
<#
.SYNOPSIS
    Splits what tracing costs redis-server into the probe traps and the time inside each BPF program.
.DESCRIPTION
    Starts Debian's redis-server (it links jemalloc) on a free loopback port and drives it with redis-benchmark
    (SET, GET, LPUSH of 512-byte values, 20 clients, -P 1), as build.ps1 Bench's Redis section does. Then, in turn:
    untraced; the floor probe (allocount: a counter at the same sites); the tracer as Find-MemoryLeak runs it (stacks
    captured, outstanding blocks tracked); the tracer without stacks. For each: redis's CPU time per request (schedstat
    of all its threads, over redis's own request counter) and, from the kernel's BPF statistics (sysctl
    kernel.bpf_stats_enabled, switched on for the run and restored after), each program's runs per request and ns per
    run. The statistics add some 20 ns to every run. Needs root, a built module and redis-server/redis-tools.
.EXAMPLE
    dotnet pwsh ./scripts/Measure-RedisCost.ps1 -Seconds 8
#>
[CmdletBinding()]
param(
    [ValidateSet('Untraced', 'Floor', 'Tracer', 'NoStacks')]
    [string[]] $Configuration = @('Untraced', 'Floor', 'Tracer', 'NoStacks'),
    [ValidateRange(2, 120)]
    [int] $Seconds = 8
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
Import-Module (Join-Path $root 'LeakTools.psd1') -Force
Import-Module (Join-Path $PSScriptRoot 'BenchTools.psm1') -Force

# The cumulative statistics of the programs this process holds (other sessions may run programs of the same names).
function Get-ProgramStatistics {
    $ours = [Collections.Generic.HashSet[long]]::new()
    foreach ($fd in [IO.Directory]::GetFiles("/proc/$PID/fdinfo")) {
        try { $info = [IO.File]::ReadAllText($fd) } catch [IO.IOException] { continue }
        if ($info -match '(?m)^prog_id:\s*(\d+)') { $null = $ours.Add([long]$Matches[1]) }
    }
    $table = @{}
    foreach ($p in @(& bpftool -j prog show | ConvertFrom-Json)) {
        if ($ours.Contains([long]$p.id) -and $p.PSObject.Properties['run_cnt']) { $table[$p.id] = $p }
    }
    $table
}

$redis = Start-BenchRedis
$server = $redis.Process; $port = $redis.Port
$client = $null
$statsBefore = (Get-Content /proc/sys/kernel/bpf_stats_enabled).Trim()
& sysctl -qw kernel.bpf_stats_enabled=1
try {
    $client = Start-BenchProgram (Get-Command redis-benchmark -CommandType Application)[0].Source @('-p', "$port", '-t', 'set,get,lpush', '-d', '512', '-c', '20', '-P', '1', '-n', '100000', '-l', '-q')
    foreach ($name in $Configuration) {
        $tracer = $null
        try {
            if ($name -ne 'Untraced') {
                $options = [LeakTools.Tracing.AllocationTracerOptions]@{ ProcessId = $server.Id; LibraryPath = 'libjemalloc.so.2' }
                switch ($name) {
                    'Floor' { $options.CountOnly = $true }
                    'NoStacks' { $options.CaptureStacks = $false }
                }
                $tracer = [LeakTools.Tracing.AllocationTracer]::Start($options)
            }
            Start-Sleep -Milliseconds 1000   # past the attach
            $programs0 = Get-ProgramStatistics
            $commands0 = Get-RedisCounter $port 'total_commands_processed'; $cpu0 = Get-ProcessCpuNs $server.Id
            Start-Sleep -Seconds $Seconds
            $requests = (Get-RedisCounter $port 'total_commands_processed') - $commands0; $cpu = (Get-ProcessCpuNs $server.Id) - $cpu0
            $programs = Get-ProgramStatistics
            $programNs = 0.0
            $rows = foreach ($id in $programs.Keys) {
                $runs = $programs[$id].run_cnt - ($programs0[$id] ? $programs0[$id].run_cnt : 0)
                $ns = $programs[$id].run_time_ns - ($programs0[$id] ? $programs0[$id].run_time_ns : 0)
                if ($runs -le 0) { continue }
                $programNs += $ns
                [pscustomobject]@{ Program = $programs[$id].name; RunsPerRequest = [math]::Round($runs / $requests, 2); NsPerRun = [math]::Round($ns / $runs, 0) }
            }
            [pscustomobject]@{
                Configuration           = $name
                RequestsPerSecond       = [math]::Round($requests / $Seconds, 0)
                RedisCpuUsPerRequest    = [math]::Round($cpu / 1000 / $requests, 2)
                ProgramUsPerRequest     = [math]::Round($programNs / 1000 / $requests, 2)
                Programs                = (@($rows | Sort-Object RunsPerRequest -Descending | ForEach-Object { "$($_.Program) $($_.RunsPerRequest)×$($_.NsPerRun) ns" }) -join '; ')
            }
        }
        finally { if ($tracer) { $tracer.Dispose() } }
    }
}
finally {
    & sysctl -qw "kernel.bpf_stats_enabled=$statsBefore"
    Stop-BenchProgram $client
    Stop-BenchProgram $server
}
