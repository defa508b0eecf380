# Child of scripts/Bench.ps1 (Soak section): runs Watch-Allocation or Find-MemoryLeak -Interval 5 for a long
# time in this fresh PowerShell, throwing every object away as it comes, and prints as JSON when the trace
# started and returned (Unix seconds) and what went through it. The driver samples this process's RSS meanwhile.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [ValidateSet('WatchAllocation', 'FindMemoryLeak')] [string] $Case,
    [Parameter(Mandatory)] [int] $ProcessId,
    [Parameter(Mandatory)] [double] $Seconds
)
$ErrorActionPreference = 'Stop'
function Get-UnixNow { [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0 }

Import-Module $ModulePath
$script:objects = 0L
$started = Get-UnixNow
# A bare process block consumes fastest, so the cmdlet, not the consumer, sets the pace.
if ($Case -eq 'WatchAllocation') {
    Watch-Allocation -Id $ProcessId -Duration $Seconds -WarningAction SilentlyContinue -WarningVariable warnings |
        & { process { $script:objects++ } }
}
else {
    Find-MemoryLeak -Id $ProcessId -Duration $Seconds -Interval 5 -WarningAction SilentlyContinue -WarningVariable warnings |
        & { process { $script:objects++ } }
}
$returned = Get-UnixNow
@{
    Started  = $started
    Returned = $returned
    Objects  = $script:objects
    Warnings = (@($warnings | ForEach-Object { "$_" } | Select-Object -Unique) -join ' / ')
} | ConvertTo-Json -Compress
