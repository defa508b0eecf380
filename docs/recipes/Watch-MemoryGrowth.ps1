#Requires -Version 7.4
<#
.SYNOPSIS
    Samples process memory once, appends one JSON line per process to a log, and alerts on every process
    whose memory grew steadily over the last samples.

.DESCRIPTION
    Meant to run once a minute from cron or a systemd timer (see docs/runbook.md). Each run:

    1. takes one Get-ProcessMemory sample of the processes named by -Name and appends it to -LogPath as
       JSON lines: {"Timestamp":"...","Id":1234,"Name":"app","Rss":...,"Pss":...,"Uss":...,"Swap":...};
    2. reads back the last -Samples + 1 samples of each process still running (so -Samples intervals);
    3. alerts when RSS never shrank across those intervals and grew by at least -MinBytesPerSecond on
       average: sustained growth, not a one-off spike. A restarted process (new PID) starts afresh.

    Alerts are warnings (stream 3) and objects on the output; the exit code is 3 when any process alerts,
    0 otherwise, so cron mail, a systemd unit's status or a monitoring agent can pick it up.

.PARAMETER Name
    Process names to watch (wildcards allowed). Default: every process.

.PARAMETER LogPath
    The JSON-lines file to append to. Its directory is created when missing. Rotate it with logrotate.

.PARAMETER Samples
    How many consecutive intervals of growth make "sustained". With one run a minute, 10 means ten minutes.

.PARAMETER MinBytesPerSecond
    The smallest average growth that alerts. Default: 4 KiB/s (about 14 MiB an hour).

.PARAMETER ModulePath
    Where to import LeakTools from: a module name on PSModulePath or the path of LeakTools.psd1.
#>
[CmdletBinding()]
param(
    [string[]] $Name = '*',

    [string] $LogPath = '/var/log/leaktools/memory.jsonl',

    [ValidateRange(2, 10080)]
    [int] $Samples = 10,

    [ValidateRange(0, [long]::MaxValue)]
    [long] $MinBytesPerSecond = 4KB,

    [string] $ModulePath = 'LeakTools'
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$directory = Split-Path -Parent $LogPath
if ($directory) { New-Item -ItemType Directory -Force -Path $directory | Out-Null }

# 1. One sample. Processes that exit or deny access while being read are not worth a cron mail.
$now = @(Get-ProcessMemory -Name $Name -ErrorAction SilentlyContinue)
$lines = foreach ($p in $now) {
    [ordered]@{
        Timestamp = $p.Timestamp.ToUniversalTime().ToString('o')
        Id        = $p.Id
        Name      = $p.Name
        Rss       = $p.Rss
        Pss       = $p.Pss
        Uss       = $p.Uss
        Swap      = $p.Swap
    } | ConvertTo-Json -Compress
}
if ($lines) { Add-Content -LiteralPath $LogPath -Value $lines }

# 2. The recent history of the processes alive now; only the tail of the log can hold it.
$alive = [System.Collections.Generic.HashSet[string]]::new()
foreach ($p in $now) { $null = $alive.Add("$($p.Id)/$($p.Name)") }
$tail = [Math]::Max(1000, $now.Count * ($Samples + 1) * 2)
$history = @(Get-Content -LiteralPath $LogPath -Tail $tail -ErrorAction Ignore | ConvertFrom-Json)

# 3. Sustained growth: never shrank over the last -Samples intervals, and grew fast enough on average.
$alerts = foreach ($process in $history | Group-Object { "$($_.Id)/$($_.Name)" }) {
    if (-not $alive.Contains($process.Name)) { continue }
    $recent = @($process.Group | Sort-Object { [datetime]$_.Timestamp } | Select-Object -Last ($Samples + 1))
    if ($recent.Count -lt $Samples + 1) { continue }
    $neverShrank = $true
    for ($i = 1; $i -lt $recent.Count; $i++) {
        if ($recent[$i].Rss -lt $recent[$i - 1].Rss) { $neverShrank = $false; break }
    }
    $seconds = ([datetime]$recent[-1].Timestamp - [datetime]$recent[0].Timestamp).TotalSeconds
    if (-not $neverShrank -or $seconds -le 0) { continue }
    $rate = ($recent[-1].Rss - $recent[0].Rss) / $seconds
    if ($rate -lt $MinBytesPerSecond) { continue }
    [pscustomobject]@{
        Id             = $recent[-1].Id
        Name           = $recent[-1].Name
        Since          = [datetime]$recent[0].Timestamp
        RssBefore      = $recent[0].Rss
        Rss            = $recent[-1].Rss
        BytesPerSecond = [Math]::Round($rate, 1)
    }
}

foreach ($alert in $alerts) {
    Write-Warning ("{0} (PID {1}) grew for {2} samples in a row: RSS {3:N0} -> {4:N0} KiB, {5:N1} KiB/s. Next: Find-MemoryLeak -Id {1} -Duration 30" -f
        $alert.Name, $alert.Id, $Samples, ($alert.RssBefore / 1KB), ($alert.Rss / 1KB), ($alert.BytesPerSecond / 1KB))
}
$alerts
exit $(if ($alerts) { 3 } else { 0 })
