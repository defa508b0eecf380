#Requires -Version 7.4
<#
.SYNOPSIS
    Measures LeakTools' tracing overhead, report latency and memory at scale, symbolization throughput and the
    procfs cmdlets, prints a Markdown table and writes it to docs/benchmarks.md.

.DESCRIPTION
    Run through the build (which builds the module and the benchmark programs first):

        dotnet tool restore && dotnet pwsh ./build.ps1 Bench

    Every figure is the median of several runs with the spread (min-max), and every ratio is against a baseline
    taken in the same run, because shared machines are noisy. A missed goal is shown as MISSED; a measurement
    whose API is not there yet is shown as such instead of failing the whole run.

.PARAMETER Quick
    Development run: one short run per case and smaller fixtures. Writes native/build/benchmarks-dev.md, never
    docs/benchmarks.md.

.PARAMETER Section
    Which sections to run (default all): Overhead, Scale, Symbols, Procfs, Soak, Redis, Unwind, Verdict. A subset is a development run
    (native/build/benchmarks-dev.md).

.PARAMETER Runs
    Development: override how many runs each measurement takes (full-size fixtures otherwise unchanged).
    Writes native/build/benchmarks-dev.md, never docs/benchmarks.md.

.PARAMETER SoakMinutes
    How long each soak case traces (default 10). A shorter soak is a development run
    (native/build/benchmarks-dev.md): `-Section Soak -SoakMinutes 1` checks the section itself.
#>
[CmdletBinding()]
param(
    [switch] $Quick,

    [ValidateSet('Overhead', 'Scale', 'Symbols', 'Procfs', 'Soak', 'Redis', 'Unwind', 'Verdict')]
    [string[]] $Section = @('Overhead', 'Scale', 'Symbols', 'Procfs', 'Soak', 'Redis', 'Unwind', 'Verdict'),

    [ValidateRange(1, 20)]
    [int] $Runs,

    [ValidateRange(1, 60)]
    [int] $SoakMinutes = 10
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Root = Split-Path $PSScriptRoot -Parent
$ModulePath = Join-Path $Root 'LeakTools.psd1'
$NativeBuildDir = Join-Path $Root 'native/build'
$ChildScripts = Join-Path $PSScriptRoot 'bench'
Import-Module (Join-Path $PSScriptRoot 'BenchTools.psm1') -Force
Import-Module $ModulePath -Force

# Sizes and repetitions: full run within the 10-minute budget on a 2-core machine; -Quick for development.
$Settings = if ($Quick) {
    @{ Runs = 1; PairSeconds = 0.3; TracerMargin = 3; Outstanding = 100000; Stacks = 1000; ReportRuns = 1
        SymbolAddresses = 20000; SymbolRuns = 1; ProcfsRuns = 2; VmStatCalls = 50; ImportRuns = 2; RedisRuns = 1; RedisSeconds = 6 }
}
else {
    # Runs = 9: this VM's speed drifts ±15% between runs; nine interleaved runs keep the medians steady.
    # RedisSeconds: each redis case is timed this long (the sampled one twice as long: its cycle is 10 s).
    @{ Runs = 9; PairSeconds = 1.5; TracerMargin = 4; Outstanding = 1000000; Stacks = 10000; ReportRuns = 3
        SymbolAddresses = 100000; SymbolRuns = 3; ProcfsRuns = 5; VmStatCalls = 200; ImportRuns = 5; RedisRuns = 3; RedisSeconds = 10 }
}

if ($Runs) { foreach ($key in 'Runs', 'ReportRuns', 'SymbolRuns', 'ProcfsRuns', 'ImportRuns', 'RedisRuns') { $Settings[$key] = $Runs } }
# Every section of the default list, or it is a development run.
$AllSections = (Get-Command $PSCommandPath).Parameters['Section'].Attributes.Where({ $_ -is [ValidateSet] }).ValidValues
$Development = $Quick -or $Runs -or @($AllSections | Where-Object { $_ -notin $Section }).Count -gt 0 -or $SoakMinutes -ne 10
# The soak runs for its minutes whatever the machine does: the whole-task goal is judged without it.
$SoakClock = [Diagnostics.Stopwatch]::new()
$LoadAtStart = ((Get-Content /proc/loadavg -Raw) -split ' ')[0..2] -join ' '

$Rows = [Collections.Generic.List[object]]::new()
$Clock = [Diagnostics.Stopwatch]::StartNew()

function Write-BenchStep([string] $Message) {
    Write-Host ("[{0,5:0}s] {1}" -f $Clock.Elapsed.TotalSeconds, $Message) -ForegroundColor Cyan
}

function Get-BenchProgram([string] $Name) {
    $path = Join-Path $NativeBuildDir $Name
    if (-not (Test-Path $path)) { throw "$path is missing; run it through 'build.ps1 Bench', which builds it." }
    return $path
}

#region 1. Tracing overhead

# One run of allocbench under one tracing case; returns the parsed result line plus what the tracer reported.
function Invoke-AllocBenchCase([string] $Case, [int] $Threads) {
    $exe = Get-BenchProgram 'allocbench'
    $seconds = $Settings.PairSeconds.ToString([cultureinfo]::InvariantCulture)
    $arguments = @('-t', "$Threads", '-s', $seconds)
    if ($Case -ne 'Untraced') { $arguments += @('-w', '60') }
    $process = Start-BenchProgram $exe $arguments
    $extra = ''; $sitesText = ''
    try {
        if ($Case -ne 'Untraced') { $null = Wait-BenchLine $process '^ready' 10 }
        $duration = $Settings.PairSeconds + $Settings.TracerMargin
        switch ($Case) {
            'Untraced' { }
            { $_ -in 'Floor', 'Entry' } {
                $options = [LeakTools.Tracing.AllocationTracerOptions]@{ ProcessId = $process.Id; CountOnly = $true; ForceEntrySites = ($Case -eq 'Entry') }
                $tracer = [LeakTools.Tracing.AllocationTracer]::Start($options)
                try {
                    if (-not $process.WaitForExit([int](($duration + 30) * 1000))) { throw 'allocbench did not finish.' }
                    $sites = @($tracer.ProbeSites | Where-Object { "$($_.Function)" -in 'Malloc', 'Free' } | ForEach-Object { "$($_.Symbol)+0x$($_.Displacement.ToString('x')) ($($_.ChosenInstruction))" })
                    $stats = $tracer.ReadStatistics()
                    $returns = ($stats.ReturnHits.Values | Measure-Object -Sum).Sum
                    $sitesText = $sites -join ', '
                    $extra = "$($stats.TotalHits) entry and $returns return hits"
                }
                finally { $tracer.Dispose() }
            }
            'FindMemoryLeak' {
                $leaks = @(Find-MemoryLeak -Id $process.Id -Duration $duration -WarningAction SilentlyContinue)
                $extra = "$($leaks.Count) stacks reported"
                $lost = @($leaks | Where-Object { "$($_.Lost)" -ne 'none' } | Select-Object -First 1)
                if ($lost) { $extra += ", lost: $($lost[0].Lost)" }
            }
            'WatchAllocation' {
                $events = (Watch-Allocation -Id $process.Id -Duration $duration -WarningAction SilentlyContinue -WarningVariable lossWarnings | Measure-Object).Count
                $extra = "$events events consumed"
                $drops = @($lossWarnings | ForEach-Object { if ("$_" -match 'ring-buffer drops (\d+)') { [long]$Matches[1] } } | Select-Object -Last 1)
                if ($drops) { $extra += ", $($drops[0]) dropped (ring buffer full)" }
            }
        }
        if (-not $process.WaitForExit(60000)) { throw 'allocbench did not finish.' }
        $line = $process.StandardOutput.ReadToEnd() -split '\r?\n' | Where-Object { $_ -match 'ns_per_pair=' } | Select-Object -Last 1
        if (-not $line) { throw "allocbench printed no result (exit $($process.ExitCode))." }
        $result = ConvertFrom-KeyValueLine $line
        $result['Extra'] = $extra
        $result['Sites'] = $sitesText
        # A traced run only counts if the probes were in place for the whole timed loop.
        $result['Valid'] = ($Case -eq 'Untraced') -or ($result['probed_at_start'] -eq 1 -and $result['probed_at_end'] -eq 1)
        return $result
    }
    finally { Stop-BenchProgram $process }
}

# Median over runs of (traced / floor) within each run; NaN when no run has both.
function Get-PairedRatio([hashtable] $Traced, [hashtable] $Floor) {
    $ratios = @(foreach ($run in $Traced.Keys) { if ($Floor.ContainsKey($run) -and $Floor[$run] -gt 0) { $Traced[$run] / $Floor[$run] } })
    if ($ratios.Count -eq 0) { return [double]::NaN }
    Get-Median $ratios
}

function Measure-TracingOverhead {
    $s = '1. Tracing overhead'
    $cases = [ordered]@{
        Untraced        = @{ Label = 'untraced'; Available = $true }
        Floor           = @{ Label = 'counting probe on our sites (floor)'; Available = (Test-BenchType 'LeakTools.Tracing.AllocationTracer') }
        Entry           = @{ Label = 'counting probe at first instruction'; Available = (Test-BenchType 'LeakTools.Tracing.AllocationTracer') }
        FindMemoryLeak  = @{ Label = 'Find-MemoryLeak'; Available = (Test-BenchCommand 'Find-MemoryLeak') }
        WatchAllocation = @{ Label = 'Watch-Allocation, output consumed'; Available = (Test-BenchCommand 'Watch-Allocation') }
    }
    foreach ($threads in 1, 2) {
        $samples = @{}; $cpuSamples = @{}; $notes = @{}
        # Per run: each traced case over the floor of the same run (measured moments apart), see Get-PairedRatio.
        $byRun = @{}
        foreach ($case in $cases.Keys) {
            $byRun[$case] = @{}
            $samples[$case] = [Collections.Generic.List[double]]::new()
            $cpuSamples[$case] = [Collections.Generic.List[double]]::new()
            $notes[$case] = [Collections.Generic.List[string]]::new()
        }
        # Cases interleaved run by run, so a burst of load from elsewhere spreads over all of them; each run starts
        # one case later than the last, so no case always follows the same one (the floor comes before a traced
        # case in some runs and after it in others).
        $order = @($cases.Keys)
        for ($run = 1; $run -le $Settings.Runs; $run++) {
            $shift = ($run - 1) % $order.Count
            foreach ($case in @($order | Select-Object -Skip $shift) + @($order | Select-Object -First $shift)) {
                if (-not $cases[$case].Available) { continue }
                Write-BenchStep "malloc/free, $threads thread(s), $($cases[$case].Label), run $run"
                try {
                    $r = Invoke-AllocBenchCase $case $threads
                    if ($r.Valid) { $samples[$case].Add($r['ns_per_pair']); $cpuSamples[$case].Add($r['cpu_ns_per_pair']); $byRun[$case][$run] = $r['ns_per_pair'] }
                    else { $notes[$case].Add("run $run discarded: probes not in place for the whole loop") }
                    if ($r.Sites -and -not ($notes[$case] -contains "sites $($r.Sites)")) { $notes[$case].Add("sites $($r.Sites)") }
                    $notes[$case].Add("run ${run}: $($r['pairs']) pairs$(if ($r.Extra) { ", $($r.Extra)" })")
                }
                catch { $notes[$case].Add("run $run failed: $_") }
            }
        }
        $untraced = Get-Median $samples['Untraced'].ToArray()
        $floor = Get-Median $samples['Floor'].ToArray()
        foreach ($case in $cases.Keys) {
            $name = "malloc(64)/free pair, $threads thread$(if ($threads -gt 1) { 's' }), $($cases[$case].Label)"
            if (-not $cases[$case].Available) {
                $Rows.Add((New-MissingRow $s $name 'not available yet')); continue
            }
            $values = $samples[$case].ToArray()
            $median = Get-Median $values
            $ratio = ''; $goal = ''; $verdict = ''
            if ($case -ne 'Untraced' -and $untraced -gt 0) { $ratio = "$(Format-BenchNumber ($median / $untraced))× untraced" }
            $paired = Get-PairedRatio $byRun[$case] $byRun['Floor']
            if ($case -in 'Entry', 'FindMemoryLeak', 'WatchAllocation' -and $floor -gt 0) {
                $ratio += "; $(Format-BenchNumber ($median / $floor))× floor, paired by run $(Format-BenchNumber $paired)×"
                $cpuFloor = Get-Median $cpuSamples['Floor'].ToArray()
                $cpuMedian = Get-Median $cpuSamples[$case].ToArray()
                if ($cpuFloor -gt 0 -and $cpuMedian -gt 0) { $ratio += " (thread CPU time: $(Format-BenchNumber ($cpuMedian / $cpuFloor))× floor)" }
            }
            if ($case -in 'FindMemoryLeak', 'WatchAllocation') {
                $goal = '≤ 1.2× floor and ≤ 3200 ns'
                $verdict = if ([double]::IsNaN($floor)) { 'no floor measured' }
                else {
                    # The paired ratio decides: this VM's speed drifts by ±15% between runs, and each run's floor was
                    # measured moments before its traced case, so the drift cancels out of the paired figure.
                    $missed = @(
                        if ((Get-GoalVerdict $paired 1.2) -ne 'met') { 'ratio' }
                        if ((Get-GoalVerdict $median 3200) -ne 'met') { 'absolute' }
                    )
                    if ($missed.Count -eq 0) { 'met' } else { "**MISSED** ($($missed -join ' and '))" }
                }
            }
            if ($values.Count -eq 0) { if (-not $verdict) { $verdict = 'no valid run' } }
            else {
                # Thread CPU time is much less sensitive to a busy machine than wall time: it helps read a noisy run.
                $cpu = $cpuSamples[$case].ToArray()
                $notes[$case].Insert(0, "thread CPU time per pair $(Format-BenchNumber (Get-Median $cpu)) ns (min–max $(Format-BenchNumber ($cpu | Measure-Object -Minimum).Minimum)–$(Format-BenchNumber ($cpu | Measure-Object -Maximum).Maximum))")
            }
            $Rows.Add((New-BenchRow -Section $s -Measurement $name -Samples $values -Unit 'ns' -Ratio $ratio -Goal $goal -Verdict $verdict -Note ($notes[$case] -join '; ')))
        }
    }
}

#endregion

#region 2. Report latency and memory at scale

function Measure-ReportAtScale {
    $s = '2. Report at scale'
    $n = $Settings.Outstanding; $k = $Settings.Stacks
    $latencyName = "Find-MemoryLeak report latency, $($n.ToString('N0')) outstanding from $($k.ToString('N0')) stacks"
    $memoryName = 'Find-MemoryLeak peak RSS per outstanding allocation'
    if (-not (Test-BenchCommand 'Find-MemoryLeak')) {
        $Rows.Add((New-MissingRow $s $latencyName 'not available yet' '≤ 1 s'))
        $Rows.Add((New-MissingRow $s $memoryName 'not available yet' '≤ 150 B'))
        return
    }
    $latencies = [Collections.Generic.List[double]]::new()
    $perAllocation = [Collections.Generic.List[double]]::new()
    $notes = [Collections.Generic.List[string]]::new()
    # Long enough for the fixture to make all its allocations under tracing on a busy machine (checked per run).
    $duration = if ($Quick) { 5 } else { 15 }
    for ($run = 1; $run -le $Settings.ReportRuns; $run++) {
        Write-BenchStep "Find-MemoryLeak over $n outstanding allocations, run $run"
        $process = Start-BenchProgram (Get-BenchProgram 'outstanding') @('-n', "$n", '-k', "$k", '-w', '90')
        try {
            $null = Wait-BenchLine $process '^ready' 10
            $r = Invoke-FreshPwsh (Join-Path $ChildScripts 'Measure-LeakReport.ps1') @{ ModulePath = $ModulePath; ProcessId = $process.Id; Duration = $duration } -TimeoutSeconds ($duration + 120)
            # A loaded machine may still be allocating when the window ends: the run is then kept, and its note says so.
        $fixture = ConvertFrom-KeyValueLine (Wait-BenchLine $process '^allocated' 120)
            # The watch clock starts after the probes are live (the fixture saw them) and after the engine's first
            # verbose message, so the later of the two plus -Duration is the earliest the window can have ended:
            # the latency below is an upper bound.
            $windowStart = [math]::Max($fixture['probed_at'], ($r.FirstVerbose ?? 0))
            $windowEnd = $windowStart + $duration
            $lastEmitted = $r.LastObject ?? $r.Returned
            $latencies.Add($lastEmitted - $windowEnd)
            $perAllocation.Add(($r.HwmAfterKb - $r.HwmBeforeKb) * 1024.0 / $n)
            $note = "run ${run}: $($r.Stacks) stacks / $($r.Count) allocations / $($r.Bytes) bytes reported (expected $k / $n / $($n * 32))"
            $note += ", attach $(Format-BenchNumber ($fixture['probed_at'] - $r.Started)) s, allocating under tracing $(Format-BenchNumber ($fixture['done_at'] - $fixture['probed_at'])) s"
            if ($r.FirstObject) { $note += ", first object $(Format-BenchNumber ($r.FirstObject - $windowEnd)) s after the window" }
            $note += ", peak RSS $([math]::Round($r.HwmBeforeKb / 1024)) → $([math]::Round($r.HwmAfterKb / 1024)) MiB"
            if ($fixture['done_at'] -gt $windowEnd) { $note += ', WINDOW ENDED BEFORE ALL ALLOCATIONS WERE MADE' }
            if ($r.Lost) { $note += ", losses: $($r.Lost)" }
            elseif ($r.Warnings) { $note += ", warnings: $($r.Warnings.TrimEnd('.'))" }
            $notes.Add($note)
        }
        catch { $notes.Add("run $run failed: $_") }
        finally { Stop-BenchProgram $process }
    }
    $noteText = ($notes -join '; ') + '. Latency = last object emitted minus (start of the watch + -Duration), the start taken as the later of the target seeing its probes and the first verbose message, so an upper bound; peak RSS in a fresh pwsh, VmHWM after minus before, kernel BPF map memory not included.'
    $lat = $latencies.ToArray(); $mem = $perAllocation.ToArray()
    $Rows.Add((New-BenchRow -Section $s -Measurement $latencyName -Samples $lat -Unit 's' -Goal '≤ 1 s' -Verdict (Get-GoalVerdict (Get-Median $lat) 1.0) -Note $noteText))
    $Rows.Add((New-BenchRow -Section $s -Measurement $memoryName -Samples $mem -Unit 'B' -Goal '≤ 150 B' -Verdict (Get-GoalVerdict (Get-Median $mem) 150)))
}

#endregion

#region 3. Symbolization throughput

# A binary with 100,000 small functions, generated and compiled once, kept in native/build.
function Get-LargeSymbolBinary {
    $dir = Join-Path $NativeBuildDir 'bench'
    $binary = Join-Path $NativeBuildDir 'bigsyms'
    $stamp = 'bigsyms v1: 100000 functions'
    $stampFile = "$binary.stamp"
    if ((Test-Path $binary) -and (Test-Path $stampFile) -and (Get-Content $stampFile -Raw).Trim() -eq $stamp) { return $binary }
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
    $source = Join-Path $dir 'bigsyms.c'
    Write-BenchStep 'Generating and compiling a binary with 100,000 functions (once; cached in native/build)'
    $text = [Text.StringBuilder]::new()
    $null = $text.AppendLine('/* Generated by scripts/Bench.ps1: many symbols for the symbolization benchmark. */')
    $null = $text.AppendLine('#include <unistd.h>')
    for ($i = 0; $i -lt 100000; $i++) {
        $null = $text.AppendLine("int bench_symbol_$($i.ToString('D6'))(int x) { return x * $($i % 97 + 3) + $i; }")
    }
    $null = $text.AppendLine('int main(void) { for (;;) pause(); }')
    [IO.File]::WriteAllText($source, $text.ToString())
    # -O0: the point is the symbol count, and it compiles several times faster than -O1.
    & clang -O0 -o $binary $source
    if ($LASTEXITCODE -ne 0) { throw 'Compiling the 100k-symbol binary failed.' }
    Set-Content -Path $stampFile -Value $stamp
    return $binary
}

# Where a file is loaded in a process: the start of its mapping at file offset 0 (the load bias for a PIE or
# shared object; 0 for a fixed-address executable).
# A just-started process may not have mapped it yet (a slow machine): wait up to 5 s.
function Get-LoadBase([int] $ProcessId, [string] $PathPattern) {
    $deadline = [DateTime]::UtcNow.AddSeconds(5)
    do {
        foreach ($line in [IO.File]::ReadAllLines("/proc/$ProcessId/maps")) {
            $f = $line -split '\s+', 6
            if ($f.Count -eq 6 -and $f[5] -like $PathPattern -and [Convert]::ToUInt64($f[2], 16) -eq 0) {
                $path = $f[5]
                $isFixed = [IO.File]::ReadAllBytes($path)[16] -eq 2 # e_type ET_EXEC
                $base = if ($isFixed) { [ulong]0 } else { [Convert]::ToUInt64(($f[0] -split '-')[0], 16) }
                return [pscustomobject]@{ Base = $base; Path = $path }
            }
        }
        Start-Sleep -Milliseconds 20
    } while ([DateTime]::UtcNow -lt $deadline)
    throw "No mapping of '$PathPattern' in process $ProcessId after 5 s."
}

# The functions of a file as (start, size) pairs, from nm (.dynsym only for libc, whose .symtab is stripped).
function Get-FunctionList([string] $Path, [switch] $DynamicSymbols) {
    $nmArgs = @('-S', '--defined-only') + @(if ($DynamicSymbols) { '-D' }) + @($Path)
    $list = [Collections.Generic.List[ulong[]]]::new()
    foreach ($line in & nm @nmArgs) {
        $f = $line.Split(' ')
        if ($f.Count -eq 4 -and $f[2] -match '^[TtWi]$') {
            $size = [Convert]::ToUInt64($f[1], 16)
            if ($size -gt 0) { $list.Add([ulong[]]@([Convert]::ToUInt64($f[0], 16), $size)) }
        }
    }
    if ($list.Count -eq 0) { throw "nm found no functions in $Path." }
    return , $list
}

# Random addresses inside functions (a random function, then a random offset in it), as return addresses
# in real stacks are.
function New-AddressFile([ulong] $Base, $Functions, [int] $Count, [int] $Seed) {
    $random = [Random]::new($Seed)
    $lines = [string[]]::new($Count)
    for ($i = 0; $i -lt $Count; $i++) {
        $fn = $Functions[$random.Next($Functions.Count)]
        $lines[$i] = [string]($Base + $fn[0] + [ulong]$random.NextInt64([long]$fn[1]))
    }
    $file = [IO.Path]::GetTempFileName()
    [IO.File]::WriteAllLines($file, $lines)
    return $file
}

function Measure-Symbolization {
    $s = '3. Symbolization'
    $targets = [ordered]@{ libc = 'libc, '; big = '100k-function binary, ' }
    if (-not (Test-BenchType 'LeakTools.Symbols.ProcessSymbolizer')) {
        foreach ($t in $targets.Values) { foreach ($c in 'cold', 'warm') { $Rows.Add((New-MissingRow $s "$($t)$c cache" 'not available yet')) } }
        return
    }
    $binary = Get-LargeSymbolBinary
    $process = Start-BenchProgram $binary
    $files = [Collections.Generic.List[string]]::new()
    try {
        $modules = @{ libc = (Get-LoadBase $process.Id '*/libc.so*'); big = (Get-LoadBase $process.Id '*/bigsyms') }
        foreach ($target in $targets.Keys) {
            $cold = [Collections.Generic.List[double]]::new(); $warm = [Collections.Generic.List[double]]::new(); $notes = [Collections.Generic.List[string]]::new()
            $functions = Get-FunctionList $modules[$target].Path -DynamicSymbols:($target -eq 'libc')
            $coldFile = New-AddressFile $modules[$target].Base $functions $Settings.SymbolAddresses 1; $files.Add($coldFile)
            $warmFile = New-AddressFile $modules[$target].Base $functions $Settings.SymbolAddresses 2; $files.Add($warmFile)
            for ($run = 1; $run -le $Settings.SymbolRuns; $run++) {
                Write-BenchStep "Symbolizing $($Settings.SymbolAddresses) addresses in $target, run $run"
                try {
                    $r = Invoke-FreshPwsh (Join-Path $ChildScripts 'Measure-Symbolization.ps1') @{ ModulePath = $ModulePath; ProcessId = $process.Id; ColdAddressFile = $coldFile; WarmAddressFile = $warmFile }
                    $cold.Add($r.ColdCount / ($r.ColdMs / 1000)); $warm.Add($r.WarmCount / ($r.WarmMs / 1000))
                    if ($r.WarmFrames -ne $r.WarmCount) { $notes.Add("run ${run}: $($r.WarmFrames) frames for $($r.WarmCount) addresses") }
                    $notes.Add("run ${run}: cold call $(Format-BenchNumber $r.ColdMs) ms, $($r.WarmNamed) of $($r.WarmCount) warm addresses named")
                }
                catch { $notes.Add("run $run failed: $_") }
            }
            $where = if ($target -eq 'big') { "$($functions.Count.ToString('N0'))-function binary, " } else { $targets[$target] }
            $coldNote = "$($Settings.SymbolAddresses) addresses inside random functions, in a fresh pwsh; cold = new ProcessSymbolizer + first Symbolize call (symbol tables loaded then), warm = second call, other addresses. " + ($notes -join '; ')
            $Rows.Add((New-BenchRow -Section $s -Measurement "$($where)cold cache" -Samples $cold.ToArray() -Unit 'addr/s' -Note $coldNote))
            $Rows.Add((New-BenchRow -Section $s -Measurement "$($where)warm cache" -Samples $warm.ToArray() -Unit 'addr/s'))
        }
    }
    finally {
        Stop-BenchProgram $process
        foreach ($f in $files) { Remove-Item $f -ErrorAction Ignore }
    }
}

#endregion

#region 4. procfs cmdlets

function Measure-Procfs {
    $s = '4. procfs cmdlets'
    $runs = $Settings.ProcfsRuns

    $mapName = 'Get-ProcessMemoryMap, 25,000 mappings'
    if (Test-BenchCommand 'Get-ProcessMemoryMap') {
        $process = Start-BenchProgram (Get-BenchProgram 'manymaps') @('-n', '25000')
        try {
            $null = Wait-BenchLine $process '^ready' 20
            $mapCount = @([IO.File]::ReadAllLines("/proc/$($process.Id)/maps")).Count
            Write-BenchStep "Get-ProcessMemoryMap vs pmap -X on $mapCount mappings"
            $ours = [Collections.Generic.List[double]]::new(); $pmap = [Collections.Generic.List[double]]::new()
            $objects = @(Get-ProcessMemoryMap -Id $process.Id).Count # warm-up: JIT, as in a session that has run it before
            for ($run = 1; $run -le $runs; $run++) {
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $objects = @(Get-ProcessMemoryMap -Id $process.Id).Count
                $ours.Add($sw.Elapsed.TotalMilliseconds)
                $pmap.Add((Measure-ShellCommand "pmap -X $($process.Id)"))
            }
            $ratio = (Get-Median $ours.ToArray()) / (Get-Median $pmap.ToArray())
            $note = "$objects objects for $mapCount lines of /proc/PID/maps; all objects collected; pmap timed as a process with output to /dev/null; first cmdlet call (JIT) not timed"
            $Rows.Add((New-BenchRow -Section $s -Measurement $mapName -Samples $ours.ToArray() -Unit 'ms' -Ratio "$(Format-BenchNumber $ratio)× pmap -X" -Goal '≤ 1× pmap -X' -Verdict (Get-GoalVerdict $ratio 1.0) -Note $note))
            $Rows.Add((New-BenchRow -Section $s -Measurement "pmap -X, same process" -Samples $pmap.ToArray() -Unit 'ms'))
        }
        finally { Stop-BenchProgram $process }
    }
    else { $Rows.Add((New-MissingRow $s $mapName 'not available yet' '≤ 1× pmap -X')) }

    if (Test-BenchCommand 'Get-VmStat') {
        Write-BenchStep 'Get-VmStat per sample'
        $calls = $Settings.VmStatCalls
        $null = Get-VmStat
        $perCall = for ($run = 1; $run -le $runs; $run++) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $calls; $i++) { $null = Get-VmStat }
            $sw.Elapsed.TotalMilliseconds / $calls
        }
        $median = Get-Median $perCall
        $Rows.Add((New-BenchRow -Section $s -Measurement 'Get-VmStat, one sample' -Samples $perCall -Unit 'ms' -Goal '< 1 ms' -Verdict (Get-GoalVerdict $median 1.0 -Strict) -Note "mean over $calls calls per run, cmdlet invocation included"))
    }
    else { $Rows.Add((New-MissingRow $s 'Get-VmStat, one sample' 'not available yet' '< 1 ms')) }

    if (Test-BenchCommand 'Get-ProcessMemory') {
        Write-BenchStep 'Get-ProcessMemory over all processes vs ps aux'
        $null = @(Get-ProcessMemory -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $ours = [Collections.Generic.List[double]]::new(); $ps = [Collections.Generic.List[double]]::new(); $count = 0
        for ($run = 1; $run -le $runs; $run++) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $count = @(Get-ProcessMemory -ErrorAction SilentlyContinue -WarningAction SilentlyContinue).Count
            $ours.Add($sw.Elapsed.TotalMilliseconds)
            $ps.Add((Measure-ShellCommand 'ps aux'))
        }
        $ratio = (Get-Median $ours.ToArray()) / (Get-Median $ps.ToArray())
        $Rows.Add((New-BenchRow -Section $s -Measurement 'Get-ProcessMemory, all processes' -Samples $ours.ToArray() -Unit 'ms' -Ratio "$(Format-BenchNumber $ratio)× ps aux" -Note "$count processes; it also reads Pss/Uss/Swap (smaps_rollup), which ps does not"))
        $Rows.Add((New-BenchRow -Section $s -Measurement 'ps aux' -Samples $ps.ToArray() -Unit 'ms'))
    }
    else { $Rows.Add((New-MissingRow $s 'Get-ProcessMemory, all processes' 'not available yet')) }

    Write-BenchStep 'Import-Module in a fresh pwsh'
    # Baseline: the first Import-Module in a session pays PowerShell's own start-up costs; an empty module shows them.
    $emptyModule = Join-Path $NativeBuildDir 'bench/EmptyModule.psm1'
    New-Item -ItemType Directory -Force -Path (Split-Path $emptyModule) | Out-Null
    Set-Content -Path $emptyModule -Value 'function Get-Nothing { }'
    $import = [Collections.Generic.List[double]]::new(); $baseline = [Collections.Generic.List[double]]::new()
    for ($run = 1; $run -le $Settings.ImportRuns; $run++) {
        $import.Add((Invoke-FreshPwsh (Join-Path $ChildScripts 'Measure-ImportModule.ps1') @{ ModulePath = $ModulePath }).ImportMs)
        $baseline.Add((Invoke-FreshPwsh (Join-Path $ChildScripts 'Measure-ImportModule.ps1') @{ ModulePath = $emptyModule }).ImportMs)
    }
    $ratio = (Get-Median $import.ToArray()) / (Get-Median $baseline.ToArray())
    $Rows.Add((New-BenchRow -Section $s -Measurement 'Import-Module LeakTools, fresh pwsh' -Samples $import.ToArray() -Unit 'ms' -Ratio "$(Format-BenchNumber $ratio)× empty module" -Goal '< 200 ms' -Verdict (Get-GoalVerdict (Get-Median $import.ToArray()) 200 -Strict)))
    $Rows.Add((New-BenchRow -Section $s -Measurement 'Import-Module of an empty script module, fresh pwsh (baseline)' -Samples $baseline.ToArray() -Unit 'ms'))
}

#endregion

#region 5. Soak

# One soak case in a fresh pwsh, its RSS sampled every 5 s; a row of RSS after one minute and at the end.
function Measure-SoakCase([string] $Case, [string] $Measurement, [string] $Program, [string[]] $ArgumentList, [string] $TargetNote) {
    $s = '5. Soak'
    $seconds = $SoakMinutes * 60
    Write-BenchStep "Soak: $Measurement for $SoakMinutes min"
    $process = Start-BenchProgram (Get-BenchProgram $Program) $ArgumentList
    try {
        $null = Wait-BenchLine $process '^ready' 10
        $r = Invoke-FreshPwsh (Join-Path $ChildScripts 'Measure-Soak.ps1') @{ ModulePath = $ModulePath; Case = $Case; ProcessId = $process.Id; Seconds = $seconds } `
            -TimeoutSeconds ($seconds + 180) -RssSampleSeconds 5
        # The samples taken while the cmdlet traced: from its start (after Import-Module) to its return.
        $tracing = @($r.RssSamples | Where-Object { $_.At -ge $r.Started -and $_.At -le $r.Returned })
        # One minute in: past Import-Module, attach and warm-up. A shorter soak (a check of this section) takes a quarter in.
        $reference = [math]::Min(60, $seconds / 4)
        $atMinute = $tracing | Where-Object { $_.At -ge $r.Started + $reference } | Select-Object -First 1
        $atEnd = $tracing | Select-Object -Last 1
        if (-not $atMinute -or -not $atEnd -or $atEnd -eq $atMinute) { throw "too few RSS samples while tracing ($($tracing.Count))" }
        $growth = ($atEnd.Kb - $atMinute.Kb) * 100.0 / $atMinute.Kb
        $peak = ($tracing | Measure-Object -Property Kb -Maximum).Maximum
        $note = "pwsh RSS $([math]::Round($atMinute.Kb / 1024)) MiB after $(Format-BenchNumber (($atMinute.At - $r.Started) / 60)) min, $([math]::Round($atEnd.Kb / 1024)) MiB at the end" +
            " ($(Format-BenchNumber (($atEnd.At - $r.Started) / 60)) min), peak $([math]::Round($peak / 1024)) MiB; $TargetNote; $($r.Objects) objects consumed"
        if ($r.Warnings) { $note += "; warnings: $($r.Warnings.TrimEnd('.'))" }
        $Rows.Add((New-BenchRow -Section $s -Measurement "$Measurement, $SoakMinutes min: pwsh RSS growth from $(Format-BenchNumber ($reference / 60)) min to the end" -Samples @($growth) -Unit '%' `
                    -Goal '< 5%' -Verdict (Get-GoalVerdict $growth 5 -Strict) -Note $note))
    }
    catch { $Rows.Add((New-MissingRow $s "$Measurement, $SoakMinutes min" "failed: $($_.Exception.Message)" '< 5%')) }
    finally { Stop-BenchProgram $process }
}

function Measure-Soak {
    $SoakClock.Start()
    try {
        # Watch-Allocation at full rate: one allocbench thread makes malloc/free pairs as fast as it can, for longer than the trace.
        Measure-SoakCase 'WatchAllocation' 'Watch-Allocation at full rate' 'allocbench' @('-t', '1', '-s', "$($SoakMinutes * 60 + 120)", '-w', '60') `
            'target: allocbench, one thread of malloc(64)/free pairs'
        # Find-MemoryLeak -Interval 5 reports the same 100,000 live allocations from 1,000 stacks every 5 s.
        Measure-SoakCase 'FindMemoryLeak' 'Find-MemoryLeak -Interval 5' 'outstanding' @('-n', '100000', '-k', '1000', '-w', '60') `
            'target: outstanding, 100,000 live allocations from 1,000 stacks, reported every 5 s'
    }
    finally { $SoakClock.Stop() }
}

#endregion

#region 6. A real service: redis

# Debian's redis-server (linked with jemalloc) on a loopback port, driven by redis-benchmark: SET, GET and LPUSH of
# 512-byte values, 20 clients, no pipelining (-P 1: one request per round trip, as most clients send them). Throughput
# is taken from redis itself (INFO's total_commands_processed) over a fixed window while redis-benchmark loops, so
# every case is timed as long whatever its speed, and the sampled case covers whole sampling cycles.

# (Start-BenchRedis, Get-RedisCounter and Get-ProcessCpuNs, redis's CPU time, are in BenchTools.psm1.)

# A process's user and system time, ended threads included, in ns (clock ticks of 10 ms: coarse, but complete).
function Get-ProcessCpuTicksNs([int] $ProcessId) {
    $fields = ([IO.File]::ReadAllText("/proc/$ProcessId/stat") -split '\) ')[1] -split ' '
    ([double]$fields[11] + [double]$fields[12]) * 1e7
}

# Waits until a uprobe shows in the target's copy of jemalloc's malloc (an int3 among its first 16 bytes).
function Wait-RedisProbe([int] $ProcessId, [double] $TimeoutSeconds = 20) {
    $line = [IO.File]::ReadAllLines("/proc/$ProcessId/maps") | Where-Object { $_ -match 'libjemalloc\.so' -and $_ -match ' r-xp ' } | Select-Object -First 1
    if (-not $line) { throw 'redis-server maps no executable libjemalloc.so.' }
    $f = $line -split '\s+', 6
    $start = [Convert]::ToUInt64(($f[0] -split '-')[0], 16); $fileOffset = [Convert]::ToUInt64($f[2], 16)
    $symbol = & nm -D --defined-only $f[5] | Where-Object { $_ -match ' T malloc$' } | Select-Object -First 1
    $readelf = & readelf -lW $f[5] | Where-Object { $_ -match '^\s+LOAD\s' -and $_ -match 'R E' } | Select-Object -First 1
    $load = $readelf.Trim() -split '\s+'
    $offsetInFile = [Convert]::ToUInt64(($symbol -split ' ')[0], 16) - [Convert]::ToUInt64($load[2], 16) + [Convert]::ToUInt64($load[1], 16)
    $address = $start + $offsetInFile - $fileOffset
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    $buffer = [byte[]]::new(16)
    while ([DateTime]::UtcNow -lt $deadline) {
        $mem = [IO.File]::OpenRead("/proc/$ProcessId/mem")
        try { $mem.Position = [long]$address; $null = $mem.Read($buffer, 0, 16) } finally { $mem.Dispose() }
        if ($buffer -contains 0xcc) { return }
        Start-Sleep -Milliseconds 50
    }
    throw 'The probes did not appear in redis-server within 20 s.'
}

# One timed window of redis-benchmark against the server, under one tracing case.
function Invoke-RedisCase([string] $Case, [int] $Port, [int] $ServerId, [double] $Seconds) {
    $tracer = $null; $job = $null; $extra = ''
    switch ($Case) {
        'Floor' {
            $tracer = [LeakTools.Tracing.AllocationTracer]::Start([LeakTools.Tracing.AllocationTracerOptions]@{ ProcessId = $ServerId; CountOnly = $true; LibraryPath = 'libjemalloc.so.2' })
        }
        { $_ -in 'FindMemoryLeak', 'Sampled' } {
            $rate = if ($Case -eq 'Sampled') { 10 } else { 1 }
            $job = Start-ThreadJob -ArgumentList $ModulePath, $ServerId, ($Seconds + 30), $rate {
                param($module, $id, $duration, $rate)
                Import-Module $module
                $leaks = @(Find-MemoryLeak -Id $id -Library libjemalloc.so.2 -Duration $duration -SampleRate $rate -WarningAction SilentlyContinue)
                "$($leaks.Count) stacks reported"
            }
        }
    }
    $client = $null
    try {
        if ($Case -ne 'Untraced') { Wait-RedisProbe $ServerId }
        $commandsAtAttach = Get-RedisCounter $Port 'total_commands_processed'
        $client = Start-BenchProgram (Get-Command redis-benchmark -CommandType Application)[0].Source @('-p', "$Port", '-t', 'set,get,lpush', '-d', '512', '-c', '20', '-P', '1', '-n', '100000', '-l', '-q')
        Start-Sleep -Milliseconds 1000   # clients connected, past the first requests
        $commands0 = Get-RedisCounter $Port 'total_commands_processed'
        $cpu0 = Get-ProcessCpuNs $ServerId; $self0 = Get-ProcessCpuTicksNs $PID
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Start-Sleep -Milliseconds ([int]($Seconds * 1000))
        $commands = (Get-RedisCounter $Port 'total_commands_processed') - $commands0
        $elapsed = $clock.Elapsed.TotalSeconds
        $cpu = (Get-ProcessCpuNs $ServerId) - $cpu0; $self = (Get-ProcessCpuTicksNs $PID) - $self0
        Stop-BenchProgram $client; $client = $null
        if ($tracer) {
            $stats = $tracer.ReadStatistics()
            $requests = (Get-RedisCounter $Port 'total_commands_processed') - $commandsAtAttach
            $perFunction = ($stats.Hits.GetEnumerator() | Where-Object Value | Sort-Object Value -Descending | ForEach-Object { "$($_.Key.ToString().ToLowerInvariant()) $(Format-BenchNumber ($_.Value / $requests))" }) -join ', '
            $returns = ($stats.ReturnHits.Values | Measure-Object -Sum).Sum
            $extra = "$(Format-BenchNumber ($stats.TotalHits / $requests)) allocator calls per request ($perFunction)"
            $hitsPerRequest = ($stats.TotalHits + $returns) / $requests
        }
        [pscustomobject]@{
            Rps = $commands / $elapsed
            ServerUsPerRequest = $cpu / 1000 / $commands
            # The tracer runs in this process (a thread job): its CPU while the window ran, in CPUs.
            TracerCpus = if ($Case -in 'FindMemoryLeak', 'Sampled') { $self / 1e9 / $elapsed } else { 0 }
            Extra = $extra
            HitsPerRequest = if ($tracer) { $hitsPerRequest } else { 0 }
        }
    }
    finally {
        Stop-BenchProgram $client
        if ($tracer) { $tracer.Dispose() }
        if ($job) {
            # Ends the trace (Ctrl+C's path: the cmdlet reports what it has and detaches); the server runs on.
            $job | Stop-Job
            $job | Remove-Job -Force
        }
    }
}

function Measure-Redis {
    $s = '6. Redis'
    $cases = [ordered]@{
        Untraced       = 'untraced'
        Floor          = 'counting probe on our sites (floor)'
        FindMemoryLeak = 'Find-MemoryLeak'
        Sampled        = 'Find-MemoryLeak -SampleRate 10'
    }
    $label = 'redis-server (jemalloc), SET/GET/LPUSH 512 B, 20 clients, -P 1'
    if (-not (Get-Command redis-server, redis-benchmark, redis-cli -CommandType Application -ErrorAction Ignore) -or
        @(Get-Command redis-server, redis-benchmark, redis-cli -CommandType Application -ErrorAction Ignore).Count -lt 3) {
        foreach ($case in $cases.Values) { $Rows.Add((New-MissingRow $s "$label, $case" 'redis-server or redis-tools not installed')) }
        return
    }
    $redis = Start-BenchRedis
    $server = $redis.Process; $port = $redis.Port
    $samples = @{}; $byRun = @{}; $notes = @{}; $cpu = @{}; $hits = [Collections.Generic.List[double]]::new()
    foreach ($case in $cases.Keys) {
        $samples[$case] = [Collections.Generic.List[double]]::new(); $byRun[$case] = @{}; $notes[$case] = [Collections.Generic.List[string]]::new()
        $cpu[$case] = [Collections.Generic.List[double]]::new()
    }
    try {
        $order = @($cases.Keys)
        for ($run = 1; $run -le $Settings.RedisRuns; $run++) {
            $shift = ($run - 1) % $order.Count
            foreach ($case in @($order | Select-Object -Skip $shift) + @($order | Select-Object -First $shift)) {
                # The sampled case runs whole cycles: two of its 10-second cycles at full size.
                $seconds = if ($case -eq 'Sampled') { 2 * $Settings.RedisSeconds } else { $Settings.RedisSeconds }
                Write-BenchStep "redis, $($cases[$case]), run $run ($seconds s)"
                try {
                    $r = Invoke-RedisCase $case $port $server.Id $seconds
                    $samples[$case].Add($r.Rps); $byRun[$case][$run] = $r.Rps; $cpu[$case].Add($r.ServerUsPerRequest)
                    if ($r.HitsPerRequest) { $hits.Add($r.HitsPerRequest) }
                    $note = "run ${run}: $(Format-BenchNumber $r.Rps) requests/s, redis CPU $(Format-BenchNumber $r.ServerUsPerRequest) µs per request"
                    if ($r.TracerCpus) { $note += ", tracer (pwsh) $(Format-BenchNumber ($r.TracerCpus * 100))% of a CPU" }
                    if ($r.Extra) { $note += ", $($r.Extra)" }
                    $notes[$case].Add($note)
                }
                catch { $notes[$case].Add("run $run failed: $_") }
            }
        }
    }
    finally { Stop-BenchProgram $server }
    $untraced = Get-Median $samples['Untraced'].ToArray()
    # What one probe hit costs redis here: the floor's extra CPU per request over its hits (entries and returns) per request.
    $perHit = ((Get-Median $cpu['Floor'].ToArray()) - (Get-Median $cpu['Untraced'].ToArray())) / (Get-Median $hits.ToArray())
    if (-not [double]::IsNaN($perHit)) { $notes['Floor'].Insert(0, "about $(Format-BenchNumber $perHit) µs of redis CPU per probe hit ((floor − untraced) CPU per request over $(Format-BenchNumber (Get-Median $hits.ToArray())) hits per request)") }
    foreach ($case in $cases.Keys) {
        $values = $samples[$case].ToArray()
        $ratio = ''; $goal = ''; $verdict = ''
        if ($case -ne 'Untraced' -and $untraced -gt 0) {
            $paired = @(foreach ($run in $byRun[$case].Keys) { if ($byRun['Untraced'][$run]) { $byRun[$case][$run] / $byRun['Untraced'][$run] } })
            $pairedMedian = Get-Median $paired
            $ratio = "$(Format-BenchNumber ((Get-Median $values) / $untraced * 100))% of untraced, paired by run $(Format-BenchNumber ($pairedMedian * 100))%"
            # redis's CPU per request hardly depends on what else the machine runs: the steadier figure on a shared machine.
            $ratio += "; redis CPU per request $(Format-BenchNumber ((Get-Median $cpu[$case].ToArray()) / (Get-Median $cpu['Untraced'].ToArray())))× untraced"
            $limit = switch ($case) { 'FindMemoryLeak' { 0.5 } 'Sampled' { 0.75 } default { $null } }
            if ($limit) {
                $goal = "≥ $($limit * 100)% of untraced"
                $verdict = if ($paired.Count -eq 0) { 'no data' } elseif ($pairedMedian -ge $limit) { 'met' } else { '**MISSED**' }
            }
        }
        $Rows.Add((New-BenchRow -Section $s -Measurement "$label, $($cases[$case])" -Samples $values -Unit 'req/s' -Ratio $ratio -Goal $goal -Verdict $verdict -Note ($notes[$case] -join '; ')))
    }
}

#endregion

#region 7. Unwinding without frame pointers

# One allocbench run whose pairs come from a call chain -d frames deep, under the floor or Find-MemoryLeak.
function Invoke-ChainBenchCase([string] $Case, [int] $Depth) {
    $exe = Get-BenchProgram 'allocbench'
    $seconds = $Settings.PairSeconds.ToString([cultureinfo]::InvariantCulture)
    $process = Start-BenchProgram $exe @('-t', '1', '-s', $seconds, '-w', '60', '-d', "$Depth")
    try {
        $null = Wait-BenchLine $process '^ready' 10
        $duration = $Settings.PairSeconds + $Settings.TracerMargin
        if ($Case -eq 'Floor') {
            $tracer = [LeakTools.Tracing.AllocationTracer]::Start([LeakTools.Tracing.AllocationTracerOptions]@{ ProcessId = $process.Id; CountOnly = $true })
            try { if (-not $process.WaitForExit([int](($duration + 30) * 1000))) { throw 'allocbench did not finish.' } }
            finally { $tracer.Dispose() }
        }
        else { $null = @(Find-MemoryLeak -Id $process.Id -Duration $duration -WarningAction SilentlyContinue) }
        if (-not $process.WaitForExit(60000)) { throw 'allocbench did not finish.' }
        $line = $process.StandardOutput.ReadToEnd() -split '\r?\n' | Where-Object { $_ -match 'ns_per_pair=' } | Select-Object -Last 1
        if (-not $line) { throw "allocbench printed no result (exit $($process.ExitCode))." }
        $result = ConvertFrom-KeyValueLine $line
        $result['Valid'] = $result['probed_at_start'] -eq 1 -and $result['probed_at_end'] -eq 1
        return $result
    }
    finally { Stop-BenchProgram $process }
}

# Share of the chain's leaked allocations whose stack reaches clone3 through every frame of the chain, -d frames deep.
function Measure-StackCompleteness([int] $Depth) {
    $process = Start-BenchProgram (Get-BenchProgram 'allocbench') @('-t', '1', '-s', '2', '-w', '60', '-d', "$Depth", '-l')
    try {
        $null = Wait-BenchLine $process '^ready' 10
        $leaks = @(Find-MemoryLeak -Id $process.Id -Duration 1.5 -OlderThan 0.1 -WarningAction SilentlyContinue)
        $expected = $Depth + 3   # pair_at_depth x depth (one_pair inlined), run_worker, start_thread, clone3
        $all = 0.0; $complete = 0.0; $whole = 0.0
        # Only the chain's leaks (one in 1024 pairs); the program's own start-up allocations are not the point.
        foreach ($leak in $leaks | Where-Object { $_.Stack.Count -gt 0 -and $_.Stack[0].Symbol -eq 'pair_at_depth' }) {
            $all += $leak.Count
            if ($leak.StackComplete) { $complete += $leak.Count; if ($leak.Stack.Count -ge $expected) { $whole += $leak.Count } }
        }
        [pscustomobject]@{ All = $all; Complete = $complete; Whole = $whole; Stacks = $leaks.Count }
    }
    finally { Stop-BenchProgram $process }
}

function Measure-Unwinding {
    $s = '7. Unwinding without frame pointers'
    if (-not (Test-BenchType 'LeakTools.Unwinding.UnwindTable')) { $Rows.Add((New-MissingRow $s 'unwind tables' 'not available yet')); return }
    $depths = 5, 10, 20, 40
    $byDepth = @{}
    foreach ($depth in $depths) {
        $byDepth[$depth] = @{ Floor = @{}; Traced = @{}; Notes = [Collections.Generic.List[string]]::new() }
        for ($run = 1; $run -le $Settings.Runs; $run++) {
            # Floor and traced interleaved, the order alternating by run (see Measure-TracingOverhead).
            foreach ($case in @(if ($run % 2) { 'Floor', 'Traced' } else { 'Traced', 'Floor' })) {
                Write-BenchStep "malloc/free from $depth frames deep, $case, run $run"
                try {
                    $r = Invoke-ChainBenchCase $case $depth
                    if ($r.Valid) { $byDepth[$depth][$case][$run] = $r['ns_per_pair'] }
                    else { $byDepth[$depth].Notes.Add("run $run ($case) discarded: probes not in place for the whole loop") }
                }
                catch { $byDepth[$depth].Notes.Add("run $run ($case) failed: $_") }
            }
        }
    }
    $goals = @{ 10 = 1.4; 40 = 2.0 }
    $tracedMedians = @{}
    foreach ($depth in $depths) {
        $traced = @($byDepth[$depth].Traced.Values)
        $floor = @($byDepth[$depth].Floor.Values)
        $paired = Get-PairedRatio $byDepth[$depth].Traced $byDepth[$depth].Floor
        $tracedMedians[$depth] = Get-Median $traced
        $goal = if ($goals.ContainsKey($depth)) { "≤ $($goals[$depth])× floor" } else { '' }
        $verdict = if ($goal) { Get-GoalVerdict $paired $goals[$depth] } else { '' }
        $note = "floor (counting probe, same depth) median $(Format-BenchNumber (Get-Median $floor)) ns; " + ($byDepth[$depth].Notes -join '; ')
        $Rows.Add((New-BenchRow -Section $s -Measurement "malloc(64)/free pair from $depth frames deep, Find-MemoryLeak" -Samples $traced -Unit 'ns' `
            -Ratio "$(Format-BenchNumber $paired)× floor, paired by run" -Goal $goal -Verdict $verdict -Note $note.TrimEnd(' ', ';')))
    }
    $perFrame = ($tracedMedians[40] - $tracedMedians[5]) / 35
    $Rows.Add((New-BenchRow -Section $s -Measurement 'cost per frame walked' -Samples @($perFrame) -Unit 'ns' -Note '(depth 40 - depth 5) / 35, Find-MemoryLeak medians'))

    foreach ($depth in 10, 40) {
        Write-BenchStep "stack completeness, $depth frames deep"
        $c = Measure-StackCompleteness $depth
        $share = if ($c.All -gt 0) { 100 * $c.Whole / $c.All } else { [double]::NaN }
        $Rows.Add((New-BenchRow -Section $s -Measurement "stacks complete (whole chain to clone3), $depth frames deep" -Samples @($share) -Unit '%' `
            -Note "$($c.Whole) of $($c.All) leaked allocations in $($c.Stacks) stacks; $($c.Complete) reached the end of the stack"))
    }

    # Table build: the parse and the packed rows, as the loader builds them (a fresh build, not the session cache).
    $libc = (Get-Content /proc/self/maps | Where-Object { $_ -match '\s(/\S*/libc\.so\.6)$' } | Select-Object -First 1) -replace '^.*\s(/\S+)$', '$1'
    $builds = [ordered]@{ 'libc + allocbench' = @($libc, (Get-BenchProgram 'allocbench')); 'libLLVM-14' = @('/usr/lib/llvm-14/lib/libLLVM-14.so.1') }
    $buildGoals = @{ 'libc + allocbench' = 100; 'libLLVM-14' = 1500 }
    foreach ($name in $builds.Keys) {
        if (@($builds[$name] | Where-Object { -not (Test-Path $_) }).Count -gt 0) { $Rows.Add((New-MissingRow $s "table build, $name" "not installed: $($builds[$name] -join ', ')")); continue }
        $times = [Collections.Generic.List[double]]::new(); $rowCount = 0; $bytes = 0
        for ($run = 1; $run -le [Math]::Max(2, [Math]::Min(3, $Settings.Runs)); $run++) {
            $rowCount = 0; $bytes = 0
            $watch = [Diagnostics.Stopwatch]::StartNew()
            foreach ($path in $builds[$name]) {
                $image = [LeakTools.Symbols.ElfImage]::Open($path)
                try { $table = [LeakTools.Unwinding.UnwindTable]::Build($image, $null); $rowCount += $table.Rows.Length; $bytes += $table.SizeBytes }
                finally { $image.Dispose() }
            }
            $times.Add($watch.Elapsed.TotalMilliseconds)
        }
        $Rows.Add((New-BenchRow -Section $s -Measurement "table build, $name" -Samples $times.ToArray() -Unit 'ms' -Goal "≤ $($buildGoals[$name]) ms" `
            -Verdict (Get-GoalVerdict (Get-Median $times.ToArray()) $buildGoals[$name]) -Note "$rowCount rows, $(Format-BenchNumber ($bytes / $rowCount)) bytes per row (goal ≤ 12), $([Math]::Round($bytes / 1KB)) KiB; first run includes JIT warm-up"))
    }

    # The verifier, per program that walks stacks (each allocation's return program inlines the walk): the instructions
    # it processed (bpf_prog_info.verified_insns) and its own time (BPF_LOG_STATS), with the 128-frame limit; and the
    # whole load and attach. One load per run.
    $insns = [ordered]@{}; $verifyMs = [ordered]@{}; $loadMs = [Collections.Generic.List[double]]::new(); $sizes = @{}
    for ($run = 1; $run -le $Settings.Runs; $run++) {
        Write-BenchStep "verifier: instructions processed, load time, run $run"
        $sleeper = Start-Process sleep -ArgumentList 30 -PassThru
        try {
            # Traced once the dynamic loader has mapped its libc (Start-Process returns before that).
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ([DateTime]::UtcNow -lt $deadline -and -not ((Get-Content -LiteralPath "/proc/$($sleeper.Id)/maps" -Raw -ErrorAction Ignore) -match 'libc\.so')) {
                Start-Sleep -Milliseconds 20
            }
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $tracer = [LeakTools.Tracing.AllocationTracer]::Start([LeakTools.Tracing.AllocationTracerOptions]@{ ProcessId = $sleeper.Id; RecordVerifierStatistics = $true })
            $loadMs.Add($watch.Elapsed.TotalMilliseconds)
            try {
                foreach ($program in $tracer.ProgramStatistics() | Where-Object Name -Like 'memleak__*_return' | Sort-Object Name) {
                    if (-not $insns.Contains($program.Name)) { $insns[$program.Name] = [Collections.Generic.List[double]]::new(); $verifyMs[$program.Name] = [Collections.Generic.List[double]]::new() }
                    $insns[$program.Name].Add($program.VerifiedInstructions)
                    if ($null -ne $program.VerificationTime) { $verifyMs[$program.Name].Add($program.VerificationTime.TotalMilliseconds) }
                    $sizes[$program.Name] = "$($program.TranslatedInstructions) BPF instructions after verification, $($program.JitedBytes) bytes JIT-compiled"
                }
            }
            finally { $tracer.Dispose() }
        }
        finally { Stop-Process -Id $sleeper.Id -ErrorAction Ignore }
    }
    if ($insns.Count -eq 0) { $Rows.Add((New-MissingRow $s 'verifier: instructions processed' 'no return program was loaded')) }
    foreach ($name in $insns.Keys) {
        $Rows.Add((New-BenchRow -Section $s -Measurement "verifier, $($name): instructions processed" -Samples $insns[$name].ToArray() -Unit 'insns' `
            -Note "limit 1,000,000; the walk takes 128 frames at most; $($sizes[$name])"))
        if ($verifyMs[$name].Count -gt 0) {
            $Rows.Add((New-BenchRow -Section $s -Measurement "verifier, $($name): verification time" -Samples $verifyMs[$name].ToArray() -Unit 'ms' -Note 'the verifier''s own figure (BPF_LOG_STATS)'))
        }
        else { $Rows.Add((New-MissingRow $s "verifier, $($name): verification time" 'the kernel logged no verification time')) }
    }
    $Rows.Add((New-BenchRow -Section $s -Measurement 'load and attach (AllocationTracer.Start, unwind tables included)' -Samples $loadMs.ToArray() -Unit 'ms'))
}

#endregion

#region 8. Leak verdicts (-Verdict)

# One -Verdict pass over a target of the given size: `outstanding -f` writes every block and links it to the one
# before, so the scan meets a pointer per block. Returns the child's JSON plus the window's end.
function Invoke-VerdictPass([long] $Blocks, [int] $Size, [int] $Stacks, [double] $Duration) {
    $process = Start-BenchProgram (Get-BenchProgram 'outstanding') @('-n', "$Blocks", '-k', "$Stacks", '-z', "$Size", '-w', '90', '-f')
    try {
        $null = Wait-BenchLine $process '^ready' 10
        $r = Invoke-FreshPwsh (Join-Path $ChildScripts 'Measure-Verdict.ps1') @{ ModulePath = $ModulePath; ProcessId = $process.Id; Duration = $Duration } -TimeoutSeconds ($Duration + 180)
        # A loaded machine may still be allocating when the window ends: the run is then kept, and its note says so.
        $fixture = ConvertFrom-KeyValueLine (Wait-BenchLine $process '^allocated' 120)
        $windowEnd = [math]::Max($fixture['probed_at'], ($r.FirstVerbose ?? 0)) + $Duration
        $r | Add-Member -NotePropertyName AfterWindow -NotePropertyValue (($r.LastObject ?? 0) - $windowEnd)
        $r | Add-Member -NotePropertyName AllocatedInWindow -NotePropertyValue ($fixture['done_at'] -le $windowEnd)
        # The tool's first touches of memory between the window's end and its last object (samples 50 ms apart).
        $atEnd = @($r.FaultSamples | Where-Object { $_[0] -le $windowEnd } | Select-Object -Last 1)
        $atLast = @($r.FaultSamples | Where-Object { $_[0] -le ($r.LastObject ?? 0) } | Select-Object -Last 1)
        $faults = if ($atEnd.Count -and $atLast.Count) { $atLast[0][1] - $atEnd[0][1] } else { $null }
        $r | Add-Member -NotePropertyName FaultsAfterWindow -NotePropertyValue $faults
        $r
    }
    finally { Stop-BenchProgram $process }
}

function Measure-Verdict {
    $s = '8. Leak verdicts'
    $large = if ($Quick) { @{ Blocks = 100000; Size = 1024 } } else { @{ Blocks = 1000000; Size = 1024 } }
    $gib = $large.Blocks * $large.Size / 1GB
    $pauseName = "-Verdict pause per GiB scanned, $(Format-BenchNumber $gib) GiB written heap in $($large.Blocks.ToString('N0')) traced blocks"
    $wholeName = '-Verdict: last object after the window, same target'
    $memoryName = '-Verdict: tool peak RSS per traced block, same target'
    $smallName = '-Verdict pause, small service (100 MiB written heap, 10,000 traced blocks)'
    $scanName = '-Verdict scan rate (scan + classify, after the pause), same target'
    $pause = [Collections.Generic.List[double]]::new(); $whole = [Collections.Generic.List[double]]::new()
    $scan = [Collections.Generic.List[double]]::new()
    $memory = [Collections.Generic.List[double]]::new(); $small = [Collections.Generic.List[double]]::new()
    $notes = [Collections.Generic.List[string]]::new(); $smallNotes = [Collections.Generic.List[string]]::new()
    # Long enough for the fixture to make its million allocations under the probes, so the report meets a quiet target.
    $duration = if ($Quick) { 5 } else { 30 }
    # What one first touch of a fresh page costs here, to say how much of the wait after the window is that.
    $touch = ConvertFrom-KeyValueLine (& (Get-BenchProgram 'firsttouch'))
    $faultUs = [double]$touch['ns_per_page'] / 1000
    for ($run = 1; $run -le $Settings.ReportRuns; $run++) {
        Write-BenchStep "Find-MemoryLeak -Verdict over $(Format-BenchNumber $gib) GiB in $($large.Blocks) blocks, run $run"
        try {
            $r = Invoke-VerdictPass $large.Blocks $large.Size 1000 $duration
            # An inconclusive pass (let go at the pause limit) keeps no copy: it has no rate to give.
            if ($r.CopiedMiB -gt 0) {
                $pause.Add(($r.PauseMs / 1000) / ($r.CopiedMiB / 1024))
                $scan.Add(($r.CopiedMiB / 1024) / [math]::Max($r.ScanMs / 1000, 1e-3))
            }
            $whole.Add($r.AfterWindow)
            $memory.Add(($r.HwmAfterKb - $r.HwmBeforeKb) * 1024.0 / [math]::Max($r.Blocks, 1))
            $note = "run ${run}: paused $($r.Threads) thread(s) $($r.PauseMs) ms, copied $($r.CopiedMiB) MiB, scan + classify $($r.ScanMs) ms of $($r.Blocks) blocks; verdicts $($r.Verdicts)"
            if ($null -ne $r.FaultsAfterWindow) {
                $note += "; $(Format-BenchNumber $r.AfterWindow) s after the window, $($r.FaultsAfterWindow) page faults in it (× $(Format-BenchNumber $faultUs) µs a first touch here ≈ $(Format-BenchNumber ($r.FaultsAfterWindow * $faultUs / 1e6)) s)"
            }
            $note += "; peak RSS $([math]::Round($r.HwmBeforeKb / 1024)) → $([math]::Round($r.HwmAfterKb / 1024)) MiB (the copy of the heap included)"
            if (-not $r.AllocatedInWindow) { $note += ', WINDOW ENDED BEFORE ALL ALLOCATIONS WERE MADE' }
            if ($r.Warnings) { $note += ", warnings: $($r.Warnings)" }
            $notes.Add($note)
        }
        catch { $notes.Add("run $run failed: $_") }
        Write-BenchStep "Find-MemoryLeak -Verdict over a small service, run $run"
        try {
            $r = Invoke-VerdictPass 10000 10240 100 5
            $small.Add($r.PauseMs)
            $smallNotes.Add("run ${run}: $($r.Threads) thread(s), copied $($r.CopiedMiB) MiB, scan + classify $($r.ScanMs) ms; verdicts $($r.Verdicts)")
        }
        catch { $smallNotes.Add("run $run failed: $_") }
    }
    $noteText = ($notes -join '; ') + '. Pause = as the pause helper measured it (seize of the first thread to detach of the last), divided by the GiB copied.'
    $Rows.Add((New-BenchRow -Section $s -Measurement $pauseName -Samples $pause.ToArray() -Unit 's' -Goal '≤ 0.5 s' -Verdict (Get-GoalVerdict (Get-Median $pause.ToArray()) 0.5) -Note $noteText))
    $Rows.Add((New-BenchRow -Section $s -Measurement $scanName -Samples $scan.ToArray() -Unit 'GiB/s' -Note 'GiB copied during the pause over the time to scan that copy for pointers and classify the blocks (the target runs meanwhile)'))
    $Rows.Add((New-BenchRow -Section $s -Measurement $wholeName -Samples $whole.ToArray() -Unit 's' -Goal '≤ 1.5 s' -Verdict (Get-GoalVerdict (Get-Median $whole.ToArray()) 1.5) -Note 'last MemoryLeak emitted minus the end of the window (its start: the later of the target seeing its probes and the first verbose message), symbolization included'))
    $Rows.Add((New-BenchRow -Section $s -Measurement $memoryName -Samples $memory.ToArray() -Unit 'B' -Note 'VmHWM growth of a fresh pwsh over the traced blocks; most of it is the copy of the written heap (about the heap size), the rest the index, graph and report'))
    $Rows.Add((New-BenchRow -Section $s -Measurement $smallName -Samples $small.ToArray() -Unit 'ms' -Goal '≤ 50 ms' -Verdict (Get-GoalVerdict (Get-Median $small.ToArray()) 50) -Note ($smallNotes -join '; ')))
}

#endregion

$sections = [ordered]@{
    Overhead = { Measure-TracingOverhead }
    Scale    = { Measure-ReportAtScale }
    Symbols  = { Measure-Symbolization }
    Procfs   = { Measure-Procfs }
    Soak     = { Measure-Soak }
    Redis    = { Measure-Redis }
    Unwind   = { Measure-Unwinding }
    Verdict  = { Measure-Verdict }
}
foreach ($name in $sections.Keys) {
    if ($name -notin $Section) { continue }
    try { & $sections[$name] }
    catch {
        Write-Warning "Section $name failed: $_"
        $Rows.Add((New-MissingRow $name "section $name" "failed: $($_.Exception.Message)"))
    }
}

$machine = Get-MachineDescription
$command = if ($Development) { "dotnet pwsh ./scripts/Bench.ps1 $(@($PSBoundParameters.GetEnumerator() | ForEach-Object { "-$($_.Key) $($_.Value -join ',')" }) -join ' ')".Replace(' True', '') } else { 'dotnet tool restore && dotnet pwsh ./build.ps1 Bench' }
$report = [Collections.Generic.List[string]]::new()
$report.Add('# LeakTools benchmarks')
$report.Add('')
if ($Development) { $report.Add('**Development run (-Quick, -Runs or -Section): not representative.**'); $report.Add('') }
$report.Add("- Date: $($machine.Date)")
$report.Add("- Kernel (uname -r): $($machine.Kernel)")
$report.Add("- CPU: $($machine.Cpu), $($machine.Cores) cores")
$report.Add("- Load average (1/5/15 min) at start: $LoadAtStart; at the end: $($machine.Load)")
$report.Add("- Command: ``$command``")
# The whole task counts from the start of this PowerShell (build.ps1 Bench builds first), goal under 10 minutes;
# the soak's fixed minutes are left out of it.
$soak = $SoakClock.Elapsed.TotalSeconds
$total = ([DateTime]::Now - (Get-Process -Id $PID).StartTime).TotalSeconds - $soak
$report.Add("- Whole task: $([math]::Round($total)) s including the build (benchmarks alone $([math]::Round($Clock.Elapsed.TotalSeconds - $soak)) s), not counting the soak ($([math]::Round($soak)) s); goal < 600 s: $(Get-GoalVerdict $total 600 -Strict)")
$report.Add('')
$report.Add('Each figure is the median of the runs shown, with the spread (min–max). Ratios are medians against')
$report.Add('baselines measured in the same run. ns per pair is per thread: each thread''s time divided by its pairs.')
$report.Add('')
foreach ($line in Format-BenchTable $Rows.ToArray()) { $report.Add($line) }
$report.Add('')
$report.Add('## How each figure is taken')
$report.Add('')
$report.Add('1. `native/bench/allocbench.c` times malloc(64)/free pairs inside the program (clock_gettime) for about')
$report.Add("   $($Settings.PairSeconds) s per thread. Traced cases start it waiting until malloc and free carry a uprobe (it watches their")
$report.Add('   first bytes change), so the probes are live before timing starts; a run whose probes were gone at the end is')
$report.Add('   discarded. The floor is the engine''s CountOnly program (a per-CPU counter) on the sites Find-MemoryLeak uses;')
$report.Add('   "first instruction" is the same counter with ForceEntrySites. Watch-Allocation''s events go to Measure-Object.')
$report.Add('   The benchmark threads, the tracer and everything else on the machine share its cores. Cases are interleaved')
$report.Add('   run by run, each run starting one case later. "× floor" divides medians; "paired by run" is the median over')
$report.Add('   runs of each run''s traced time over that run''s floor, measured moments before or after: this VM''s speed')
$report.Add('   drifts by ±15% between runs, and the paired figure cancels the drift, so the ratio goal is judged on it.')
$report.Add('   With two threads on this 2-CPU machine, Watch-Allocation''s consumer (the pipeline thread, busy whenever events')
$report.Add('   come faster than PowerShell takes them) competes with the benchmark threads for the CPUs: compare the thread')
$report.Add('   CPU time ratio, which leaves out time spent waiting for a CPU, for what the probes themselves cost.')
$report.Add('2. `native/bench/outstanding.c` (frame pointers, -O0) makes its allocations once its probes are live, from call')
$report.Add('   chains that spell a stack number digit by digit, and waits. Find-MemoryLeak runs in a fresh pwsh.')
$report.Add('3. A fresh pwsh per run: a new ProcessSymbolizer on a running process of the generated binary')
$report.Add('   (native/build/bigsyms, 100,000 functions, built once), addresses inside random functions (libc: .dynsym ones).')
$report.Add('4. `native/bench/manymaps.c` gives alternate pages of one region different protections, so each is its own mapping.')
$report.Add('   External tools are timed as processes with their output sent to /dev/null; cmdlets in this session after one')
$report.Add('   untimed call, output collected. Import-Module is timed inside a fresh pwsh.')
$report.Add("5. Soak: each case runs $SoakMinutes minutes in a fresh pwsh that throws every object away as it comes; the driver")
$report.Add('   samples that pwsh''s VmRSS every 5 s. Growth is from the first sample one minute into the trace (after')
$report.Add('   Import-Module, attach and warm-up; a quarter in for a soak shorter than 4 minutes) to the last one before')
$report.Add('   the cmdlet returned; the goal is under 5%.')
$report.Add('   Watch-Allocation traces `allocbench` (one thread of malloc(64)/free pairs as fast as it can, so the stream')
$report.Add('   runs at full rate and the ring buffer drops what the consumer cannot take); Find-MemoryLeak -Interval 5 traces')
$report.Add('   `outstanding` (100,000 live allocations from 1,000 stacks), so each of its reports reads and names the same')
$report.Add('   set: memory that grows from report to report is the tool''s, not the data''s. Kernel BPF map memory is not in')
$report.Add('   the RSS. The soak''s minutes are left out of the whole-task time.')
$report.Add('6. Redis: Debian''s `redis-server` (it links jemalloc) on a free loopback port, no persistence, driven by')
$report.Add('   `redis-benchmark -t set,get,lpush -d 512 -c 20 -P 1 -l` (512-byte values, 20 connections, no pipelining).')
$report.Add("   Requests per second come from redis's own INFO counter over a $($Settings.RedisSeconds) s window that starts a second after")
$report.Add('   the client (the sampled case: twice as long, whole 10-second cycles); traced windows start once a uprobe shows')
$report.Add('   in redis''s copy of jemalloc''s `malloc`. The floor is the counting probe on the sites Find-MemoryLeak uses')
$report.Add('   (`-Library libjemalloc.so.2`); its hits over the requests served are the allocator calls per request.')
$report.Add('   Find-MemoryLeak runs in a thread job of the benchmark''s pwsh, whose CPU over the window is the tracer''s cost.')
$report.Add('   Cases are interleaved run by run; "paired by run" is the median of each run''s traced over untraced rate, and')
$report.Add('   the goals (≥ 50% with full tracing, ≥ 75% with -SampleRate 10) are judged on it. The server is killed at the end.')
$report.Add('8. -Verdict: `native/bench/outstanding.c -f` writes every block and points its first word at the block before; one')
$report.Add('   Find-MemoryLeak -Verdict pass per run in a fresh pwsh. The pause is what the pause helper measured (from its')
$report.Add('   start, just before the first seize, until it let the last thread go), per GiB copied; the scan rate is that copy')
$report.Add('   over the time the pointer scan and the classification took, with the target running again. The tool''s page faults')
$report.Add('   after the window are counted from its /proc/self/stat, sampled every 50 ms, and priced by `native/bench/firsttouch.c`')
$report.Add('   (the mean cost of a first write to a fresh 4 KiB page on this machine).')

$outFile = if ($Development) { Join-Path $NativeBuildDir 'benchmarks-dev.md' } else { Join-Path $Root 'docs/benchmarks.md' }
New-Item -ItemType Directory -Force -Path (Split-Path $outFile) | Out-Null
[IO.File]::WriteAllLines($outFile, $report)
$report | Out-Host
Write-Host "Written to $([IO.Path]::GetRelativePath($Root, $outFile)) in $([math]::Round($Clock.Elapsed.TotalSeconds)) s."
