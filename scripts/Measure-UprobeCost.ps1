#Requires -Version 7.4
<#
.SYNOPSIS
    Measures what one uprobe hit costs at different first instructions and what probe-site choice gains.
.DESCRIPTION
    Builds native/bench/uprobe-cost.c, then runs it untraced, with the floor probe (allocount) on each
    stub's first instruction, and with allocount and the full tracer on glibc's malloc/free at the entry
    and at the chosen sites. Prints ns per call. Small and quick (a few seconds); the full benchmark is
    build.ps1 Bench. Needs root and a built module. On a busy machine use -Repeat 3: each number is then the
    minimum over the runs (noise only ever adds time).
#>
[CmdletBinding()]
param([long] $Iterations = 20000, [switch] $SkipStubs, [int] $Repeat = 1)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
Import-Module (Join-Path $root 'LeakTools.psd1') -Force
$work = Join-Path ([IO.Path]::GetTempPath()) "leaktools-uprobe-cost-$PID"
New-Item -ItemType Directory -Path $work -Force | Out-Null
$exe = Join-Path $work 'uprobe-cost'
& clang -O2 -g -o $exe (Join-Path $root 'native/bench/uprobe-cost.c')
if ($LASTEXITCODE -ne 0) { throw 'clang failed' }

function Invoke-Run([scriptblock] $Configure) {
    $marker = Join-Path $work "go-$([guid]::NewGuid())"
    $psi = [Diagnostics.ProcessStartInfo]::new($exe)
    $psi.ArgumentList.Add($marker); $psi.ArgumentList.Add("$Iterations")
    $psi.RedirectStandardOutput = $true
    $p = [Diagnostics.Process]::Start($psi)
    $tracer = $null
    try {
        # The libc must be mapped before the tracer looks for it.
        while (-not ((Get-Content "/proc/$($p.Id)/maps" -Raw) -match 'libc\.so')) { Start-Sleep -Milliseconds 5 }
        if ($Configure) {
            $o = [LeakTools.Tracing.AllocationTracerOptions]::new()
            $o.ProcessId = $p.Id
            & $Configure $o
            $tracer = [LeakTools.Tracing.AllocationTracer]::Start($o)
        }
        New-Item -ItemType File -Path $marker | Out-Null
        $text = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit()
        $result = @{}
        foreach ($line in $text -split "`n" | Where-Object { $_ }) { $n, $v = $line -split ' '; $result[$n] = [double]$v }
        [pscustomobject]@{ Result = $result; Sites = if ($tracer) { @($tracer.ProbeSites) } else { @() } }
    }
    finally { if ($tracer) { $tracer.Dispose() }; if (-not $p.HasExited) { $p.Kill() }; $p.Dispose() }
}

Write-Verbose "untraced run"
$base = (Invoke-Run $null).Result
$stubs = if ($SkipStubs) { @() } else { @('push', 'nop1', 'nopl', 'nop5', 'endbr', 'jmp', 'test', 'mov') }
$rows = foreach ($stub in $stubs) {
    Write-Verbose "stub $stub"
    $r = Invoke-Run { param($o) $o.LibraryPath = $exe; $o.SymbolPrefix = "$($stub)_"; $o.CountOnly = $true; $o.ForceEntrySites = $true }
    [pscustomobject]@{ FirstInstruction = $stub; UntracedNs = $base[$stub]; ProbedNs = $r.Result[$stub]; PerHitNs = [math]::Round($r.Result[$stub] - $base[$stub], 1) }
}
$rows | Format-Table -AutoSize | Out-Host

$pairs = [ordered]@{
    'untraced'                 = $null
    'allocount, entry sites'   = { param($o) $o.CountOnly = $true; $o.ForceEntrySites = $true }
    'allocount, chosen sites'  = { param($o) $o.CountOnly = $true }
    'memleak, entry sites'     = { param($o) $o.ForceEntrySites = $true }
    'memleak, chosen sites'    = { param($o) }
    'memleak, no stacks'       = { param($o) $o.CaptureStacks = $false }
}
$sites = $null
$best = [ordered]@{}
for ($round = 0; $round -lt [math]::Max(1, $Repeat); $round++) {
    foreach ($name in $pairs.Keys) {   # interleaved, so slow phases of the machine hit every configuration
        $r = Invoke-Run $pairs[$name]
        if ($name -eq 'memleak, chosen sites') { $sites = $r.Sites }
        $ns = $r.Result['malloc_free']
        if (-not $best.Contains($name) -or $ns -lt $best[$name]) { $best[$name] = $ns }
    }
}
$pairRows = foreach ($name in $best.Keys) { [pscustomobject]@{ Configuration = $name; MallocFreePairNs = $best[$name] } }
$pairRows | Format-Table -AutoSize | Out-Host
$sites | Select-Object Symbol, @{ n = 'Entry'; e = { '0x{0:x}' -f $_.EntryOffset } }, @{ n = 'Chosen'; e = { '+0x{0:x}' -f $_.Displacement } }, EntryInstruction, ChosenInstruction, Emulated |
    Format-Table -AutoSize | Out-Host
Remove-Item -Recurse -Force $work
