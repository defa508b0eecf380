# Child of scripts/Bench.ps1: symbolizes addresses of a running process in this fresh PowerShell, so the first
# call meets cold caches (symbol tables not yet loaded), then a second, different set with warm caches.
# Prints the times as JSON.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $ProcessId,
    [Parameter(Mandatory)] [string] $ColdAddressFile,
    [Parameter(Mandatory)] [string] $WarmAddressFile
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$cold = [ulong[]][IO.File]::ReadAllLines($ColdAddressFile)
$warm = [ulong[]][IO.File]::ReadAllLines($WarmAddressFile)

$sw = [Diagnostics.Stopwatch]::StartNew()
$symbolizer = [LeakTools.Symbols.ProcessSymbolizer]::new($ProcessId)
# SymbolizeStack looks up all but the first address one byte earlier, as return addresses: the same cost per frame.
$coldFrames = @($symbolizer.SymbolizeStack($cold))
$coldMs = $sw.Elapsed.TotalMilliseconds
$sw.Restart()
$warmFrames = @($symbolizer.SymbolizeStack($warm))
$warmMs = $sw.Elapsed.TotalMilliseconds
$named = @($warmFrames | Where-Object { $_ -and $_.Symbol }).Count
if ($symbolizer -is [IDisposable]) { $symbolizer.Dispose() }
@{
    ColdMs = $coldMs; ColdCount = $cold.Count; ColdFrames = $coldFrames.Count
    WarmMs = $warmMs; WarmCount = $warm.Count; WarmFrames = $warmFrames.Count; WarmNamed = $named
} | ConvertTo-Json -Compress
