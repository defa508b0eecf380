#Requires -Version 7.4
<#
.SYNOPSIS
    The leak hunt of the README, end to end, on a leaking app in its own mount namespace.

.DESCRIPTION
    build.ps1 Demo builds everything and then runs this script. It starts native/build/fibonacci (thread
    `child` calls `fibonacci` every step, which callocs 8 KiB and never frees it) as /app in its own mount
    namespace, walks the hunt (Get-VmStat, Get-ProcessMemory, Get-ProcessMemoryMap and
    Compare-ProcessMemoryMap, Find-MemoryLeak, Export-FlameGraph) printing each step's heading and default
    output, then stops the app. A step that fails says what failed and why, and the script exits 1;
    otherwise it exits 0. Nothing it started is left running.

.PARAMETER StepMilliseconds
    The app's step: one 8 KiB leak per step.

.PARAMETER TraceSeconds
    How long Find-MemoryLeak watches.

.PARAMETER OutputDirectory
    Where the flame graph, the folded stacks and the app's own output go (default: out/ in the repository,
    which git ignores).
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 10000)]
    [double] $StepMilliseconds = 50,

    [ValidateRange(1, 600)]
    [double] $TraceSeconds = 10,

    [string] $OutputDirectory
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Root = (Resolve-Path (Join-Path $PSScriptRoot '..')).ProviderPath
if (-not $OutputDirectory) { $OutputDirectory = Join-Path $Root 'out' }
New-Item -ItemType Directory -Force -Path $OutputDirectory | Out-Null
$OutputDirectory = (Resolve-Path $OutputDirectory).ProviderPath
$AppBinary = Join-Path $Root 'native/build/fibonacci'
$AppLog = Join-Path $OutputDirectory 'demo-app.log'
$SvgPath = Join-Path $OutputDirectory 'demo-leaks.svg'
$FoldedPath = Join-Path $OutputDirectory 'demo-leaks.folded'
# Shown relative to the repository, as a user who ran build.ps1 from there would type them.
function Get-DisplayPath([string] $Path) {
    $relative = [IO.Path]::GetRelativePath($Root, $Path)
    if ($relative.StartsWith('..')) { $Path } else { $relative }
}
# A safety net: even if this script were killed before its finally block, the app ends by itself.
$AppSteps = [int][Math]::Ceiling(180 * 1000 / $StepMilliseconds)

$script:Failures = [System.Collections.Generic.List[string]]::new()
$script:StepNumber = 0
$StepCount = 7

function Write-Heading([string] $Title) {
    $script:StepNumber++
    Write-Host ''
    Write-Host "=== Step $script:StepNumber of ${StepCount}: $Title" -ForegroundColor Cyan
}

function Write-Command([string] $Text) {
    Write-Host "PS> $Text" -ForegroundColor Yellow
}

# Runs one step; on failure says which step failed and why (with the cmdlet's recommended action),
# records it and lets the demo go on with the steps that do not depend on it.
function Invoke-Step([string] $Title, [scriptblock] $Body) {
    Write-Heading $Title
    try {
        & $Body | Out-Host
        return $true
    }
    catch {
        $record = $_
        Write-Host "FAILED: step $script:StepNumber ($Title)" -ForegroundColor Red
        Write-Host "  What: $($record.Exception.Message)" -ForegroundColor Red
        if ($record.FullyQualifiedErrorId -and $record.FullyQualifiedErrorId -ne $record.Exception.Message) { Write-Host "  Error id: $($record.FullyQualifiedErrorId)" -ForegroundColor Red }
        if ($record.ErrorDetails -and $record.ErrorDetails.RecommendedAction) {
            Write-Host "  What to do: $($record.ErrorDetails.RecommendedAction)" -ForegroundColor Red
        }
        $script:Failures.Add("step $script:StepNumber ($Title): $($record.Exception.Message)")
        return $false
    }
}

function Skip-Step([string] $Title, [string] $Reason) {
    Write-Heading $Title
    Write-Host "SKIPPED: $Reason" -ForegroundColor DarkYellow
    $script:Failures.Add("step $script:StepNumber ($Title): skipped, $Reason")
}

function Show([object[]] $InputObject) {
    # Default formatting, as a user would see it at the prompt, but at least 160 columns wide so the
    # growth columns are not cut off when the output goes to a file or a narrow terminal.
    $width = [Math]::Max(160, $Host.UI.RawUI.BufferSize.Width)
    $InputObject | Out-String -Width $width -Stream | ForEach-Object { Write-Host $_ }
}

$isRoot = (& id -u) -eq '0'
$app = $null
$appProcess = $null
try {
    Import-Module (Join-Path $Root 'LeakTools.psd1') -Force

    Write-Host 'LeakTools demo: hunting the leak in a Fibonacci program that runs as /app in its own mount namespace.' -ForegroundColor Cyan
    if (-not $isRoot) {
        Write-Host 'Not running as root: the app cannot get its own mount namespace (unshare, mount and pivot_root need root)' -ForegroundColor DarkYellow
        Write-Host 'and Find-MemoryLeak needs root or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE. The procfs steps still run.' -ForegroundColor DarkYellow
    }

    # --- Start the app -----------------------------------------------------------------------------
    $started = Invoke-Step 'Start the leaking app as /app in its own mount namespace' {
        if (-not (Test-Path $AppBinary)) { throw "The demo app $AppBinary is missing; run 'dotnet pwsh ./build.ps1 Build' first." }
        $arguments = @("$StepMilliseconds", "$AppSteps")
        $contained = $false
        if ($isRoot) {
            Write-Command "`$app = ./scripts/Start-ContainedProcess.ps1 -Path native/build/fibonacci -ArgumentList $($arguments -join ', ')"
            try {
                $script:app = & (Join-Path $PSScriptRoot 'Start-ContainedProcess.ps1') -Path $AppBinary -ArgumentList $arguments -StandardOutputPath $AppLog
                $contained = $true
            }
            catch {
                # Root without CAP_SYS_ADMIN (a restricted container, a capability bounding set) lands here.
                Write-Host "FAILED: $($_.Exception.Message)" -ForegroundColor Red
                Write-Host '  Why: a mount namespace needs CAP_SYS_ADMIN (unshare, mount, pivot_root). The hunt goes on with the app started directly.' -ForegroundColor Red
                $script:Failures.Add("step $script:StepNumber (start in its own mount namespace): $($_.Exception.Message)")
            }
        }
        if ($contained) {
            $script:appId = $script:app.ProcessId
            $exe = (Get-Item "/proc/$script:appId/exe").LinkTarget
            Write-Host "Started PID $script:appId (launcher PID $($script:app.LauncherProcessId)); it runs $exe, which the host does not have: Test-Path /app is $(Test-Path /app)."
        }
        else {
            Write-Command "Start-Process native/build/fibonacci -ArgumentList $($arguments -join ', ')"
            $script:appProcess = Start-Process -FilePath $AppBinary -ArgumentList $arguments -RedirectStandardOutput $AppLog -PassThru
            $script:appId = $script:appProcess.Id
            Write-Host "Started PID $script:appId without a mount namespace of its own."
        }
        Start-Sleep -Milliseconds 500
        Write-Host "Its own output ($(Get-DisplayPath $AppLog)) begins:"
        Get-Content $AppLog -TotalCount 3 | ForEach-Object { Write-Host "    $_" }
    }
    if (-not $started) { throw 'The app did not start, so there is nothing to hunt.' }

    # --- 1. vmstat ---------------------------------------------------------------------------------
    $null = Invoke-Step 'Is the system losing memory? (vmstat)' {
        Write-Command 'Get-VmStat -Interval 2 -Count 4'
        $samples = @(Get-VmStat -Interval 2 -Count 4)
        Show $samples
        $change = ($samples[-1].Free - $samples[1].Free) / 1KB
        $seconds = ($samples[-1].Timestamp - $samples[1].Timestamp).TotalSeconds
        Write-Host ("The first line covers the time since boot, the others 2 s each. Free memory changed by {0:+#,0;-#,0;0} KiB in {1:N0} s;" -f $change, $seconds)
        Write-Host ("the app alone leaks about {0:N0} KiB/s, and everything else on the machine moves free too." -f (8 * 1000 / $StepMilliseconds))
    }

    # --- 2. top / ps -------------------------------------------------------------------------------
    $null = Invoke-Step 'Which process grows, and how fast? (top, ps)' {
        Write-Command "Get-ProcessMemory -Id $appId -Interval 2 -Count 3"
        Show (Get-ProcessMemory -Id $appId -Interval 2 -Count 3)
    }

    # --- 3. pmap -----------------------------------------------------------------------------------
    $null = Invoke-Step 'Which mapping grows? (pmap -x, two snapshots compared)' {
        Write-Command "`$before = Get-ProcessMemoryMap -Id $appId; Start-Sleep -Seconds 4; `$after = Get-ProcessMemoryMap -Id $appId"
        $before = Get-ProcessMemoryMap -Id $appId
        Start-Sleep -Seconds 4
        $after = Get-ProcessMemoryMap -Id $appId
        Write-Command 'Compare-ProcessMemoryMap $before $after | Where-Object RssDelta -gt 0'
        $grown = @(Compare-ProcessMemoryMap $before $after | Where-Object RssDelta -GT 0 | Sort-Object RssDelta -Descending)
        Show $grown
        if ($grown.Count -eq 0) { Write-Host 'No mapping grew in this window.' }
        else {
            $top = $grown[0]
            $label = if ($top.Path) { $top.Path } else { "an unnamed $($top.Kind) mapping" }
            Write-Host ("The mapping that grew most is {0} at 0x{1:x}: +{2:N0} KiB resident in 4 s. A thread's malloc arena is an anonymous mapping, not [heap]." -f $label, $top.Start, ($top.RssDelta / 1KB))
        }
    }

    # --- 4. memleak --------------------------------------------------------------------------------
    $script:leaks = @()
    $traced = Invoke-Step 'Which stacks hold the memory? (memleak)' {
        Write-Command "`$leaks = Find-MemoryLeak -Id $appId -Duration $TraceSeconds"
        $script:leaks = @(Find-MemoryLeak -Id $appId -Duration ([TimeSpan]::FromSeconds($TraceSeconds)))
        Write-Command '$leaks | Select-Object -First 5'
        Show ($script:leaks | Select-Object -First 5)
        if ($script:leaks.Count -eq 0) { throw "Find-MemoryLeak reported no outstanding allocations from PID $appId in $TraceSeconds s." }
        $top = $script:leaks[0]
        Write-Command '$leaks[0].Stack'
        Show $top.Stack
        $symbols = @($top.Stack | ForEach-Object Symbol)
        $sizes = if ($top.Count -gt 0) { $top.Bytes / $top.Count } else { 0 }
        Write-Host ("Top stack: {0} ({1:N0} bytes in {2:N0} allocations of {3:N0} bytes)" -f ($symbols -join ' <- '), $top.Bytes, $top.Count, $sizes)
        if (($symbols -join ',') -ne 'fibonacci,child,start_thread,clone3') {
            throw "The top leaking stack is '$($symbols -join ' <- ')', not fibonacci <- child <- start_thread <- clone3."
        }
    }

    # --- 5. flame graph ----------------------------------------------------------------------------
    if ($traced -and $script:leaks.Count -gt 0) {
        $null = Invoke-Step 'Draw the leaking stacks (flame graph)' {
            Write-Command "`$leaks | Export-FlameGraph -Path $(Get-DisplayPath $SvgPath) -Title 'Demo: outstanding allocations of /app' -PassThru"
            $file = $script:leaks | Export-FlameGraph -Path $SvgPath -Title 'Demo: outstanding allocations of /app' -PassThru
            Write-Host "Flame graph: $($file.FullName) ($('{0:N0}' -f $file.Length) bytes). Open it in a browser: hover, click to zoom, search."
            Write-Command "`$leaks | Export-FlameGraph -Path $(Get-DisplayPath $FoldedPath) -Format Folded; Get-Content $(Get-DisplayPath $FoldedPath)"
            $script:leaks | Export-FlameGraph -Path $FoldedPath -Format Folded
            Get-Content $FoldedPath | Select-Object -First 5 | ForEach-Object { Write-Host $_ }
        }
    }
    else {
        Skip-Step 'Draw the leaking stacks (flame graph)' 'there are no leaking stacks to draw because the memleak step failed.'
    }
}
catch {
    Write-Host "FAILED: $($_.Exception.Message)" -ForegroundColor Red
    $script:Failures.Add($_.Exception.Message)
}
finally {
    # Stop the app and its launcher; say so, and check that nothing is left.
    $ids = @()
    if ($app) { $ids = @($app.ProcessId, $app.LauncherProcessId) }
    elseif ($appProcess) { $ids = @($appProcess.Id) }
    if ($ids) {
        Write-Heading 'Stop the app'
        Write-Command "Stop-Process -Id $($ids -join ', ')"
        foreach ($id in $ids) { Stop-Process -Id $id -Force -ErrorAction Ignore }
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while (($ids | Where-Object { Test-Path "/proc/$_" }) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        # A zombie (exited, not yet reaped) is not running; only a live process counts as left over.
        $left = @($ids | Where-Object { (Test-Path "/proc/$_") -and ((Get-Content "/proc/$_/stat" -Raw -ErrorAction Ignore) -notmatch '\) Z ') })
        if ($left) {
            Write-Host "FAILED: PID $($left -join ', ') still running after Stop-Process." -ForegroundColor Red
            $script:Failures.Add("stop: PID $($left -join ', ') still running")
        }
        else {
            $lines = @(Get-Content $AppLog -ErrorAction Ignore)
            Write-Host "Stopped. The app had printed $($lines.Count) lines, the last: $(if ($lines) { $lines[-1] })"
        }
    }
}

Write-Host ''
if ($script:Failures.Count -eq 0) {
    Write-Host 'Demo complete: every step ran.' -ForegroundColor Green
    exit 0
}
Write-Host "Demo finished with $($script:Failures.Count) failed step(s):" -ForegroundColor Red
$script:Failures | ForEach-Object { Write-Host "  - $_" -ForegroundColor Red }
exit 1
