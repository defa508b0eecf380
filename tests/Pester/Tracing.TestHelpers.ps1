# Shared by FindMemoryLeak.Tests.ps1 and WatchAllocation.Tests.ps1 (dot-sourced in BeforeAll).
# Fixture processes are real programs from tests/fixtures, built by Build-Fixtures.ps1; each exits by
# itself after the seconds it is given, so a failed test leaves nothing running for long.

$script:RepoRoot = (Resolve-Path "$PSScriptRoot/../..").ProviderPath
$script:FixtureDir = & "$RepoRoot/tests/fixtures/Build-Fixtures.ps1"
# The stripped fixture's debug file lives under build/debug/.build-id; the symbolizer looks there too.
$env:LEAKTOOLS_DEBUG_DIRS = Join-Path $FixtureDir 'debug'

# Starts a fixture with its output discarded and returns the Process once its threads run.
function Start-Fixture([string] $Name, [string[]] $ArgumentList = @('20')) {
    $process = Start-Process -FilePath (Join-Path $FixtureDir $Name) -ArgumentList $ArgumentList `
        -RedirectStandardOutput /dev/null -PassThru
    $deadline = [DateTime]::UtcNow.AddSeconds(5)
    while ([DateTime]::UtcNow -lt $deadline) {
        $maps = Get-Content -LiteralPath "/proc/$($process.Id)/maps" -Raw -ErrorAction Ignore
        if ($maps -and $maps.Contains('libc.so')) { break }
        Start-Sleep -Milliseconds 20
    }
    Start-Sleep -Milliseconds 100   # let the site threads start their loops
    $process
}

function Stop-Fixture($Process) {
    if ($Process -and -not $Process.HasExited) { $Process.Kill(); $Process.WaitForExit(2000) | Out-Null }
}

# BPF programs of LeakTools (named memleak__*) that this PowerShell process holds. Other helpers' tests
# may run the same programs at the same time, so programs held by other processes do not count.
function Get-OurBpfProgram {
    $programs = & bpftool -j prog show | ConvertFrom-Json
    @($programs | Where-Object {
            $_.PSObject.Properties['name'] -and $_.name -like 'memleak_*' -and
            $_.PSObject.Properties['pids'] -and ($_.pids.pid -contains $PID)
        })
}

# BPF links whose program is one of ours.
function Get-OurBpfLink {
    $ours = @(Get-OurBpfProgram | ForEach-Object id)
    $links = & bpftool -j link show | ConvertFrom-Json
    @($links | Where-Object { $_.PSObject.Properties['prog_id'] -and $ours -contains $_.prog_id })
}

# The first frame's symbol, the allocator's direct caller.
function Get-DirectCaller($Leak) { if ($Leak.Stack.Count -gt 0) { $Leak.Stack[0].Symbol } }

# Waits until $Condition is true (polling), up to $TimeoutSeconds; returns whether it became true.
function Wait-Until([scriptblock] $Condition, [double] $TimeoutSeconds = 15) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (& $Condition) { return $true }
        Start-Sleep -Milliseconds 50
    }
    return [bool](& $Condition)
}
