# Child of scripts/Bench.ps1: runs Find-MemoryLeak once in this fresh PowerShell and prints, as JSON, when the
# call started and returned (Unix seconds), the process's peak RSS (VmHWM) before and after, and what was reported.
# A fresh process, so the peak RSS growth is the tool's own and not left over from earlier benchmarks.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $ProcessId,
    [Parameter(Mandatory)] [double] $Duration
)
$ErrorActionPreference = 'Stop'
function Get-PeakRssKb { [long]((Select-String -Path /proc/self/status -Pattern '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value) }
function Get-UnixNow { [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0 }

Import-Module $ModulePath
[GC]::Collect()
$before = Get-PeakRssKb
$started = Get-UnixNow
# Verbose records are merged in to time-stamp them: the engine's are flushed once the probes are attached and
# the symbolizer is ready, just before the watch clock starts, so the first one bounds the window's start.
# The consumer is a bare process block (a few microseconds per object; ForEach-Object costs ten times more
# and would be counted as the cmdlet's latency).
$leaks = [Collections.Generic.List[object]]::new()
$script:firstVerbose = $null; $script:firstObject = $null; $script:lastObject = $null
Find-MemoryLeak -Id $ProcessId -Duration $Duration -Verbose -WarningAction SilentlyContinue -WarningVariable warnings 4>&1 |
    & {
        process {
            if ($_ -is [System.Management.Automation.VerboseRecord]) {
                if ($null -eq $script:firstVerbose) { $script:firstVerbose = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0 }
            }
            else {
                $script:lastObject = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0
                if ($null -eq $script:firstObject) { $script:firstObject = $script:lastObject }
                $leaks.Add($_)
            }
        }
    }
$returned = Get-UnixNow
$after = Get-PeakRssKb
$count = 0L; $bytes = 0L
foreach ($leak in $leaks) { $count += $leak.Count; $bytes += $leak.Bytes }
# Every report carries the same loss counters; "none" when nothing was lost.
$lost = if ($leaks.Count -gt 0 -and $leaks[0].PSObject.Properties['Lost'] -and "$($leaks[0].Lost)" -ne 'none') { "$($leaks[0].Lost)" } else { '' }
@{
    Started    = $started
    Returned   = $returned
    FirstVerbose = $script:firstVerbose
    FirstObject = $script:firstObject
    LastObject = $script:lastObject
    HwmBeforeKb = $before
    HwmAfterKb = $after
    Stacks     = $leaks.Count
    Count      = $count
    Bytes      = $bytes
    Lost       = ($lost -join ' ')
    Warnings   = (@($warnings | ForEach-Object { "$_" }) -join ' / ')
} | ConvertTo-Json -Compress
