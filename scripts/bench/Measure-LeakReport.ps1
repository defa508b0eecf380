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
$leaks = @(Find-MemoryLeak -Id $ProcessId -Duration $Duration -WarningAction SilentlyContinue -WarningVariable warnings)
$returned = Get-UnixNow
$after = Get-PeakRssKb
$count = 0L; $bytes = 0L
foreach ($leak in $leaks) { $count += $leak.Count; $bytes += $leak.Bytes }
$lost = foreach ($name in 'Lost', 'LostCount', 'Losses', 'Dropped') {
    $first = $leaks | Select-Object -First 1
    if ($first -and $first.PSObject.Properties[$name]) { "$name=$($first.$name)" }
}
@{
    Started    = $started
    Returned   = $returned
    HwmBeforeKb = $before
    HwmAfterKb = $after
    Stacks     = $leaks.Count
    Count      = $count
    Bytes      = $bytes
    Lost       = ($lost -join ' ')
    Warnings   = (@($warnings | ForEach-Object { "$_" }) -join ' / ')
} | ConvertTo-Json -Compress
