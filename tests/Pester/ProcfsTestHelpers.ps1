# Shared by the procfs Pester files (VmStat, ProcessMemory, ProcessMemoryMap): dot-source in BeforeAll.

$script:RepoRoot = (Resolve-Path "$PSScriptRoot/../..").Path
$script:ProcfsTestProcesses = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()

# Starts a short-lived fixture process and remembers it for Stop-ProcfsTestProcess.
function Start-ProcfsTestProcess([string] $FilePath, [string[]] $ArgumentList) {
    $process = Start-Process -FilePath $FilePath -ArgumentList $ArgumentList -PassThru
    $script:ProcfsTestProcesses.Add($process)
    # Wait until the exec'd program is in place, so its maps no longer show the launcher.
    $deadline = [DateTime]::UtcNow.AddSeconds(5)
    while ([DateTime]::UtcNow -lt $deadline -and -not (Test-Path "/proc/$($process.Id)/maps")) { Start-Sleep -Milliseconds 20 }
    Start-Sleep -Milliseconds 200
    return $process
}

function Stop-ProcfsTestProcess {
    foreach ($process in $script:ProcfsTestProcesses) {
        if (-not $process.HasExited) { $process.Kill(); $process.WaitForExit(2000) | Out-Null }
    }
    $script:ProcfsTestProcesses.Clear()
}

# A real zombie: sh forks a short sleep, then execs a long one, which never waits for that child.
# Returns the zombie's id and its parent (a process Stop-ProcfsTestProcess ends, which lets init reap the zombie).
function Start-ZombieProcess {
    $parent = Start-ProcfsTestProcess -FilePath sh -ArgumentList @('-c "sleep 0.1 & exec sleep 60"')
    $deadline = [DateTime]::UtcNow.AddSeconds(5)
    while ([DateTime]::UtcNow -lt $deadline) {
        foreach ($id in [LeakTools.Procfs.ProcessDirectory]::EnumerateProcessIds()) {
            $stat = [LeakTools.Procfs.ProcessFiles]::TryReadStat($id)
            if ($stat -and $stat.ParentProcessId -eq $parent.Id -and $stat.State -eq 'Z') {
                return [pscustomobject]@{ Id = $id; Parent = $parent }
            }
        }
        Start-Sleep -Milliseconds 50
    }
    throw "The child of process $($parent.Id) did not become a zombie."
}

# A python3 process that allocates and touches 1 MiB every 50 ms (up to 300 MiB), then idles.
# Returned once its RSS passed 30 MiB, so callers sample it while it grows.
function Start-GrowingProcess {
    $script = Join-Path $TestDrive 'grow.py'
    Set-Content -Path $script -Value "import time`na = []`nwhile len(a) < 300:`n    a.append(b'x' * (1 << 20))`n    time.sleep(0.05)`ntime.sleep(60)"
    $process = Start-ProcfsTestProcess -FilePath python3 -ArgumentList @($script)
    # On a loaded machine python may take a while to start: return once it is visibly growing.
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    do {
        Start-Sleep -Milliseconds 100
        $rssKiB = [long]((Get-Content "/proc/$($process.Id)/status" | Select-String '^VmRSS:\s+(\d+)').Matches[0].Groups[1].Value)
    } while ($rssKiB -lt 30MB / 1KB -and [DateTime]::UtcNow -lt $deadline)
    return $process
}

# pmap -x rows as objects (sizes in KiB, as pmap prints them) plus the total line.
function Get-PmapX([int] $ProcessId) {
    $lines = & pmap -x $ProcessId
    $rows = foreach ($line in $lines) {
        if ($line -match '^([0-9a-f]{16})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S{5})\s+(.*)$') {
            [pscustomobject]@{ Address = $Matches[1]; Kbytes = [long]$Matches[2]; Rss = [long]$Matches[3]; Dirty = [long]$Matches[4]; Mode = $Matches[5]; Mapping = $Matches[6].Trim() }
        }
    }
    $total = $lines | Where-Object { $_ -match '^total kB\s+(\d+)\s+(\d+)\s+(\d+)' } | ForEach-Object {
        [pscustomobject]@{ Kbytes = [long]$Matches[1]; Rss = [long]$Matches[2]; Dirty = [long]$Matches[3] }
    }
    [pscustomobject]@{ Rows = @($rows); Total = $total }
}

# Runs a script in a fresh PowerShell inside a new user namespace: root there, but without any
# capability over the machine's processes, which is what an ordinary user gets. Returns its JSON output.
function Invoke-Unprivileged([string] $Script) {
    $pwsh = @(& "$script:RepoRoot/scripts/Get-PwshCommandLine.ps1")
    $full = "`$ErrorActionPreference = 'Continue'; Import-Module '$script:RepoRoot/LeakTools.psd1'; $Script"
    $json = & unshare --user --map-root-user @pwsh -NoProfile -NonInteractive -Command $full
    if ($LASTEXITCODE -ne 0) { throw "The unprivileged PowerShell failed ($LASTEXITCODE): $json" }
    return ($json -join "`n") | ConvertFrom-Json
}

# The quiescent fixtures of the process tests: a plain sleep and a copy of sleep named "my (odd) proc".
function Start-SleepFixtures {
    $sleeper = Start-ProcfsTestProcess -FilePath sleep -ArgumentList @('300')
    Copy-Item /bin/sleep (Join-Path $TestDrive 'my (odd) proc')
    $odd = Start-ProcfsTestProcess -FilePath (Join-Path $TestDrive 'my (odd) proc') -ArgumentList @('300')
    return $sleeper, $odd
}

# A sleep owned by 'nobody', which an unprivileged session may not trace.
function Start-ForeignProcess {
    Start-ProcfsTestProcess -FilePath setpriv -ArgumentList @('--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '120')
}
