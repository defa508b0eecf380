# Child of scripts/Bench.ps1 (section Verdict): runs Find-MemoryLeak -Verdict once in this fresh PowerShell and
# prints, as JSON, what its verbose line says about the pass (threads, pause, MiB copied, scan time), when the
# window ended and the last object came (Unix seconds), and the process's peak RSS (VmHWM) before and after.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $ProcessId,
    [Parameter(Mandatory)] [double] $Duration,
    [double] $PauseLimit = 5
)
$ErrorActionPreference = 'Stop'
function Get-PeakRssKb { [long]((Select-String -Path /proc/self/status -Pattern '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value) }
function Get-UnixNow { [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0 }

Import-Module $ModulePath
[GC]::Collect()
$before = Get-PeakRssKb
$script:firstVerbose = $null; $script:lastObject = $null; $script:pass = $null
$verdicts = @{}
Find-MemoryLeak -Id $ProcessId -Duration $Duration -Verdict -PauseLimit $PauseLimit -Verbose -WarningAction SilentlyContinue -WarningVariable warnings 4>&1 |
    & {
        process {
            if ($_ -is [System.Management.Automation.VerboseRecord]) {
                if ($null -eq $script:firstVerbose) { $script:firstVerbose = Get-UnixNow }
                if ($_.Message -match 'paused (\d+) thread\(s\) for (\d+) ms, copied ([\d.]+) MiB; scanned and classified (\d+) block\(s\) in (\d+) ms') {
                    $script:pass = $Matches
                }
            }
            else {
                $script:lastObject = Get-UnixNow
                $verdicts["$($_.Verdict)"] = $verdicts["$($_.Verdict)"] + $_.Count
            }
        }
    }
$after = Get-PeakRssKb
@{
    FirstVerbose = $script:firstVerbose
    LastObject   = $script:lastObject
    Threads      = $script:pass ? [int]$script:pass[1] : 0
    PauseMs      = $script:pass ? [double]$script:pass[2] : -1
    CopiedMiB    = $script:pass ? [double]$script:pass[3] : 0
    Blocks       = $script:pass ? [long]$script:pass[4] : 0
    ScanMs       = $script:pass ? [double]$script:pass[5] : -1
    HwmBeforeKb  = $before
    HwmAfterKb   = $after
    Verdicts     = (($verdicts.GetEnumerator() | Sort-Object Name | ForEach-Object { "$($_.Name) $($_.Value)" }) -join ', ')
    Warnings     = (@($warnings | ForEach-Object { "$_" }) -join ' / ')
} | ConvertTo-Json -Compress
