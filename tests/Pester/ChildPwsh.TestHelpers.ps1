# Runs LeakTools in a separate pwsh process, for what only a whole process shows: how a script goes on (or
# ends) after a cmdlet, its exit code, and real signals. Dot-source after Tracing.TestHelpers.ps1.
# The process is pwsh itself (under `dotnet pwsh`, the dotnet host running pwsh.dll, no shim between), so a
# signal sent to its id reaches PowerShell.

# Starts pwsh on $Script (the module is imported, output is plain text, no progress bars) with its output in
# a file. -Terminal runs it on a pseudo-terminal (util-linux `script`), so that a ^C written to the returned
# process's standard input is a real Ctrl+C: SIGINT from the terminal, which pwsh turns into StopProcessing.
# Returns an object with Process (what was started), Pwsh (the pwsh process id) and OutputPath.
function Start-ChildPwsh([string] $Script, [switch] $Terminal) {
    $path = Join-Path ([IO.Path]::GetTempPath()) "leaktools-child-$([guid]::NewGuid().ToString('n')).ps1"
    Set-Content -LiteralPath $path -Value @(
        '$ProgressPreference = "SilentlyContinue"'
        '$PSStyle.OutputRendering = "PlainText"'
        "`$env:LEAKTOOLS_DEBUG_DIRS = '$env:LEAKTOOLS_DEBUG_DIRS'"
        "Import-Module '$RepoRoot/LeakTools.psd1'"
        $Script)
    $output = "$path.out"
    [string[]] $pwsh = @(& "$RepoRoot/scripts/Get-PwshCommandLine.ps1") + @('-NoProfile', '-NonInteractive', '-File', $path)
    if ($Terminal) {
        $start = [Diagnostics.ProcessStartInfo]::new('script')
        # -e: script's exit code is pwsh's; TERM=dumb: pwsh asks the terminal nothing (nobody would answer).
        foreach ($argument in '-qfec', "exec $($pwsh -join ' ') > '$output' 2>&1", '/dev/null') { $start.ArgumentList.Add($argument) }
        $start.Environment['TERM'] = 'dumb'
        $start.RedirectStandardInput = $true
        $start.RedirectStandardOutput = $true
        $start.UseShellExecute = $false
        $process = [Diagnostics.Process]::Start($start)
        $null = Wait-Until { Get-ChildPwshId $process.Id $pwsh[0] } 30
        $pwshId = Get-ChildPwshId $process.Id $pwsh[0]
    }
    else {
        $process = Start-Process -FilePath $pwsh[0] -ArgumentList $pwsh[1..($pwsh.Count - 1)] -PassThru `
            -RedirectStandardOutput $output -RedirectStandardError "$output.err"
        $pwshId = $process.Id
    }
    [pscustomobject]@{ Process = $process; Pwsh = $pwshId; OutputPath = $output }
}

# The pwsh process under a `script` process (the pty's shell execs it), once it runs $Executable.
function Get-ChildPwshId([int] $Parent, [string] $Executable) {
    $children = @(Get-Content -LiteralPath "/proc/$Parent/task/$Parent/children" -ErrorAction Ignore) -split ' ' | Where-Object { $_ }
    foreach ($child in $children) {
        $program = ((Get-Content -LiteralPath "/proc/$child/cmdline" -Raw -ErrorAction Ignore) -split "`0")[0]
        if ($program -eq $Executable) { return [int]$child }
        $deeper = Get-ChildPwshId ([int]$child) $Executable
        if ($deeper) { return $deeper }
    }
}

# Ends the child if it still runs and removes its script and output files.
function Remove-ChildPwsh($Child) {
    if (-not $Child) { return }
    if (-not $Child.Process.HasExited) { $Child.Process.Kill($true) }
    $script = $Child.OutputPath -replace '\.out$'
    Remove-Item -LiteralPath $script, $Child.OutputPath, "$($Child.OutputPath).err" -ErrorAction Ignore
}

function Get-ChildOutput($Child) {
    (@(Get-Content -LiteralPath $Child.OutputPath, "$($Child.OutputPath).err" -ErrorAction Ignore) -join "`n")
}

# Ids of every BPF program, link and map a process holds a file descriptor for (from its fdinfo), as
# strings "prog:12", "link:7", "map:30". A fresh pwsh that runs one trace holds only ours.
function Get-BpfObjectHeldBy([int] $ProcessId) {
    @(Get-ChildItem -LiteralPath "/proc/$ProcessId/fdinfo" -ErrorAction Ignore | ForEach-Object {
            foreach ($line in (Get-Content -LiteralPath $_.FullName -ErrorAction Ignore)) {
                if ($line -match '^(prog|link|map)_id:\s*(\d+)') { "$($Matches[1]):$($Matches[2])" }
            }
        } | Select-Object -Unique)
}

# Which of these objects ("prog:12", ...) still exist anywhere on the machine, by bpftool.
function Get-LiveBpfObject([string[]] $Object) {
    $live = foreach ($kind in 'prog', 'link', 'map') {
        & bpftool -j $kind show | ConvertFrom-Json | ForEach-Object { "${kind}:$($_.id)" }
    }
    @($Object | Where-Object { $live -contains $_ })
}

# The state letter of a process (R, S, T, Z, ...), or '' when it is gone.
function Get-ProcessState([int] $ProcessId) {
    $stat = Get-Content -LiteralPath "/proc/$ProcessId/stat" -Raw -ErrorAction Ignore
    if ($stat -match '\) (\w) ') { $Matches[1] } else { '' }
}
