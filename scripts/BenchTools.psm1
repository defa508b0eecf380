# Helpers for scripts/Bench.ps1: statistics, benchmark rows, native programs, fresh PowerShell children,
# and the Markdown report. Kept apart so Bench.ps1 reads as the list of what is measured.

Set-StrictMode -Version 3.0

# One row of the report. Samples are the raw per-run numbers; the row shows their median and spread.
class BenchRow {
    [string] $Section
    [string] $Measurement
    [double[]] $Samples = @()
    [string] $Unit = ''
    [string] $Ratio = ''
    [string] $Goal = ''
    [string] $Verdict = ''
    [string] $Note = ''
}

function Get-Median([double[]] $Values) {
    if ($Values.Count -eq 0) { return [double]::NaN }
    $sorted = [double[]]($Values | Sort-Object)
    $mid = [math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { return $sorted[$mid] }
    return ($sorted[$mid - 1] + $sorted[$mid]) / 2
}

# Numbers with three significant digits at most, so the table stays readable.
function Format-BenchNumber([double] $Value) {
    if ([double]::IsNaN($Value)) { return 'n/a' }
    $abs = [math]::Abs($Value)
    if ($abs -ge 1e6) { return $Value.ToString('#,0', [cultureinfo]::InvariantCulture) }
    if ($abs -ge 100) { return $Value.ToString('0', [cultureinfo]::InvariantCulture) }
    if ($abs -ge 10) { return $Value.ToString('0.0', [cultureinfo]::InvariantCulture) }
    if ($abs -ge 1) { return $Value.ToString('0.00', [cultureinfo]::InvariantCulture) }
    return $Value.ToString('0.###', [cultureinfo]::InvariantCulture)
}

function New-BenchRow {
    param(
        [Parameter(Mandatory)] [string] $Section,
        [Parameter(Mandatory)] [string] $Measurement,
        [double[]] $Samples = @(),
        [string] $Unit = '',
        [string] $Ratio = '',
        [string] $Goal = '',
        [string] $Verdict = '',
        [string] $Note = ''
    )
    $row = [BenchRow]::new()
    $row.Section = $Section; $row.Measurement = $Measurement; $row.Samples = $Samples; $row.Unit = $Unit
    $row.Ratio = $Ratio; $row.Goal = $Goal; $row.Verdict = $Verdict; $row.Note = $Note
    return $row
}

# A row for a measurement that could not be taken; the table still shows it so nothing silently disappears.
function New-MissingRow([string] $Section, [string] $Measurement, [string] $Why, [string] $Goal = '') {
    New-BenchRow -Section $Section -Measurement $Measurement -Goal $Goal -Verdict $Why
}

function Get-RowMedian([BenchRow] $Row) { Get-Median $Row.Samples }

# "met" / "MISSED" for a goal of the form value <= limit (or < limit with -Strict).
function Get-GoalVerdict([double] $Value, [double] $Limit, [switch] $Strict) {
    if ([double]::IsNaN($Value)) { return 'no data' }
    $ok = if ($Strict) { $Value -lt $Limit } else { $Value -le $Limit }
    if ($ok) { 'met' } else { '**MISSED**' }
}

function Format-BenchTable([BenchRow[]] $Rows) {
    $lines = [Collections.Generic.List[string]]::new()
    $lines.Add('| Section | Measurement | Median | Spread (min–max, runs) | Ratio | Goal | Result |')
    $lines.Add('|---|---|---:|---|---|---|---|')
    $noteNumber = 0
    $notes = [Collections.Generic.List[string]]::new()
    foreach ($row in $Rows) {
        $median = ''; $spread = ''
        if ($row.Samples.Count -gt 0) {
            $median = "$(Format-BenchNumber (Get-RowMedian $row)) $($row.Unit)".Trim()
            $min = ($row.Samples | Measure-Object -Minimum).Minimum
            $max = ($row.Samples | Measure-Object -Maximum).Maximum
            $spread = "$(Format-BenchNumber $min)–$(Format-BenchNumber $max) ($($row.Samples.Count))"
        }
        $verdict = $row.Verdict
        if (-not $verdict -and $row.Samples.Count -eq 0) { $verdict = 'no data' }
        if ($row.Note) {
            $noteNumber++
            $verdict = "$verdict [$noteNumber]".Trim()
            $notes.Add("$noteNumber. $($row.Measurement): $($row.Note)")
        }
        $cells = $row.Section, $row.Measurement, $median, $spread, $row.Ratio, $row.Goal, $verdict |
            ForEach-Object { ($_ ?? '') -replace '\|', '\|' -replace '\r?\n', ' ' }
        $lines.Add("| $($cells -join ' | ') |")
    }
    if ($notes.Count -gt 0) {
        $lines.Add('')
        $lines.Add('Notes:')
        $lines.Add('')
        foreach ($n in $notes) { $lines.Add($n) }
    }
    return $lines
}

function Get-MachineDescription {
    $cpu = (Select-String -Path /proc/cpuinfo -Pattern '^model name\s*:\s*(.+)$' | Select-Object -First 1).Matches[0].Groups[1].Value
    [pscustomobject]@{
        Date   = [DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm') + ' UTC'
        Kernel = (& uname -r)
        Cpu    = $cpu
        Cores  = [Environment]::ProcessorCount
        Load   = ((Get-Content /proc/loadavg -Raw) -split ' ')[0..2] -join ' '
    }
}

# A native program with its standard output redirected, so the driver can wait for "ready" and read results.
function Start-BenchProgram([string] $Path, [string[]] $ArgumentList = @()) {
    $info = [Diagnostics.ProcessStartInfo]::new($Path)
    foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardInput = $true
    $info.UseShellExecute = $false
    return [Diagnostics.Process]::Start($info)
}

# Reads standard output lines until one matches; a line read asynchronously so a hung program cannot hang the bench.
function Wait-BenchLine([Diagnostics.Process] $Process, [string] $Pattern, [double] $TimeoutSeconds = 30) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        $remaining = $deadline - [DateTime]::UtcNow
        if ($remaining -le [TimeSpan]::Zero) { throw "Timed out waiting for '$Pattern' from $($Process.StartInfo.FileName)." }
        $task = $Process.StandardOutput.ReadLineAsync()
        if (-not $task.Wait($remaining)) { throw "Timed out waiting for '$Pattern' from $($Process.StartInfo.FileName)." }
        $line = $task.Result
        if ($null -eq $line) { throw "$($Process.StartInfo.FileName) ended before printing '$Pattern'." }
        if ($line -match $Pattern) { return $line }
    }
}

function Stop-BenchProgram([Diagnostics.Process] $Process) {
    if ($null -eq $Process) { return }
    try { if (-not $Process.HasExited) { $Process.Kill(); $null = $Process.WaitForExit(5000) } } catch { }
    $Process.Dispose()
}

# Debian's redis-server on a free loopback port, no persistence, once it answers PING (within 10 s):
# { Process; Port }. The caller stops it with Stop-BenchProgram.
function Start-BenchRedis {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $listener.Start()
    $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $server = Start-BenchProgram (Get-Command redis-server -CommandType Application)[0].Source @('--port', "$port", '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning')
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while ((& redis-cli -p $port PING 2>$null) -ne 'PONG') {
        if ([DateTime]::UtcNow -gt $deadline) { Stop-BenchProgram $server; throw "redis-server did not answer on port $port." }
        Start-Sleep -Milliseconds 100
    }
    [pscustomobject]@{ Process = $server; Port = $port }
}

# A counter of redis's INFO stats (total_commands_processed: the requests it served).
function Get-RedisCounter([int] $Port, [string] $Name) {
    $line = & redis-cli -p $Port INFO stats | Where-Object { $_ -like "${Name}:*" }
    if (-not $line) { throw "redis-cli INFO stats has no $Name." }
    [double]($line -split ':')[1].Trim()
}

# CPU time of all of a process's threads, in ns (schedstat: time on a CPU); threads that end meanwhile drop out,
# which suits redis (its threads stay) and not a tracer whose threads come and go.
function Get-ProcessCpuNs([int] $ProcessId) {
    $sum = 0.0
    foreach ($task in [IO.Directory]::GetDirectories("/proc/$ProcessId/task")) {
        try { $sum += [double](([IO.File]::ReadAllText("$task/schedstat")) -split ' ')[0] } catch [IO.IOException] { }
    }
    $sum
}

# "a=1 b=2.5" -> hashtable of doubles (non-numbers kept as strings).
function ConvertFrom-KeyValueLine([string] $Line) {
    $table = @{}
    foreach ($m in [regex]::Matches($Line, '(\w+)=(\S+)')) {
        $value = 0.0
        $table[$m.Groups[1].Value] = if ([double]::TryParse($m.Groups[2].Value, [Globalization.NumberStyles]::Float, [cultureinfo]::InvariantCulture, [ref]$value)) { $value } else { $m.Groups[2].Value }
    }
    return $table
}

# Runs a script file in a fresh PowerShell (no profile) and returns the JSON object it printed last. With
# -RssSampleSeconds, the child's resident set is sampled that often while it runs, and the samples come back
# in the object's RssSamples property (At: Unix seconds, Kb).
function Invoke-FreshPwsh([string] $ScriptPath, [hashtable] $Parameters = @{}, [int] $TimeoutSeconds = 120, [double] $RssSampleSeconds = 0) {
    $pwsh = @(& "$PSScriptRoot/Get-PwshCommandLine.ps1")
    $info = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $ScriptPath)) { $info.ArgumentList.Add($a) }
    foreach ($key in $Parameters.Keys) {
        $info.ArgumentList.Add("-$key")
        $info.ArgumentList.Add([string]$Parameters[$key])
    }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($info)
    try {
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        $samples = [Collections.Generic.List[object]]::new()
        if ($RssSampleSeconds -gt 0) {
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
            while (-not $process.WaitForExit([int]($RssSampleSeconds * 1000)) -and [DateTime]::UtcNow -lt $deadline) {
                $rss = Select-String -LiteralPath "/proc/$($process.Id)/status" -Pattern '^VmRSS:\s+(\d+)' -ErrorAction Ignore
                if ($rss) { $samples.Add([pscustomobject]@{ At = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0; Kb = [long]$rss.Matches[0].Groups[1].Value }) }
            }
        }
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) { throw "$ScriptPath did not finish within $TimeoutSeconds s." }
        $process.WaitForExit()
        $lines = $stdout.Result -split '\r?\n'
        $json = $lines | Where-Object { $_.StartsWith('{') } | Select-Object -Last 1
        if (-not $json) {
            $text = (($stdout.Result, $stderr.Result) -join "`n").Trim() -replace '\x1b\[[0-9;]*[A-Za-z]', ''

            if ($text.Length -gt 600) { $text = $text.Substring(0, 600) + ' ...' }
            throw "$([IO.Path]::GetFileName($ScriptPath)) printed no result (exit $($process.ExitCode)): $text"
        }
        $result = $json | ConvertFrom-Json
        if ($RssSampleSeconds -gt 0) { $result | Add-Member -NotePropertyName RssSamples -NotePropertyValue $samples.ToArray() }
        return $result
    }
    finally {
        if (-not $process.HasExited) { $process.Kill($true) }
        $process.Dispose()
    }
}

# Wall time of a shell command line with its output discarded, in milliseconds.
function Measure-ShellCommand([string] $CommandLine) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & /bin/sh -c "$CommandLine >/dev/null 2>&1"
    $sw.Stop()
    if ($LASTEXITCODE -ne 0) { throw "'$CommandLine' failed with exit code $LASTEXITCODE." }
    return $sw.Elapsed.TotalMilliseconds
}

# "Name=Value ..." for an object's properties (what a tracer's statistics say), or its text if it has none.
function Format-BenchObject($Value) {
    if ($null -eq $Value) { return '' }
    if ($Value -is [string] -or $Value.GetType().IsPrimitive) { return "$Value" }
    $parts = foreach ($p in $Value.PSObject.Properties) { if ($p.IsGettable) { "$($p.Name)=$($p.Value)" } }
    if ($parts) { return $parts -join ' ' }
    return "$Value"
}

function Test-BenchCommand([string] $Name) { [bool](Get-Command $Name -CommandType Cmdlet -ErrorAction Ignore) }
function Test-BenchType([string] $Name) { $null -ne ($Name -as [type]) }

Export-ModuleMember -Function *-* -Variable @()
