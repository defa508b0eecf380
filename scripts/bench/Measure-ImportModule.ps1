# Child of scripts/Bench.ps1: times Import-Module in this fresh PowerShell and prints the result as JSON.
param([Parameter(Mandatory)] [string] $ModulePath)
$ErrorActionPreference = 'Stop'
$sw = [Diagnostics.Stopwatch]::StartNew()
Import-Module $ModulePath
$sw.Stop()
@{ ImportMs = $sw.Elapsed.TotalMilliseconds } | ConvertTo-Json -Compress
