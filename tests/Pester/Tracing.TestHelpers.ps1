# Shared by the tracing tests (dot-sourced in BeforeAll).
# Fixture processes are real programs from tests/fixtures, built by Build-Fixtures.ps1; each exits by
# itself after the seconds it is given, so a failed test leaves nothing running for long.

$script:RepoRoot = (Resolve-Path "$PSScriptRoot/../..").ProviderPath
$script:FixtureDir = & "$RepoRoot/tests/fixtures/Build-Fixtures.ps1"
# The stripped fixture's debug file lives under build/debug/.build-id; the symbolizer looks there too.
$env:LEAKTOOLS_DEBUG_DIRS = Join-Path $FixtureDir 'debug'

# Starts a fixture (a name in the fixture folder, or a path) with its output discarded (or written to
# $StandardOutputPath) and returns the Process once its threads run. By default it lives two minutes, far longer than
# any test that stops it with Stop-Fixture (a loaded machine can take tens of seconds to start a fresh PowerShell and attach).
function Start-Fixture([string] $Name, [string[]] $ArgumentList = @('120'), [string] $StandardOutputPath = '/dev/null') {
    $path = if ([IO.Path]::IsPathRooted($Name)) { $Name } else { Join-Path $FixtureDir $Name }
    $process = Start-Process -FilePath $path -ArgumentList $ArgumentList -RedirectStandardOutput $StandardOutputPath -PassThru
    $deadline = [DateTime]::UtcNow.AddSeconds(5)
    while ([DateTime]::UtcNow -lt $deadline) {
        $maps = Get-Content -LiteralPath "/proc/$($process.Id)/maps" -Raw -ErrorAction Ignore
        if ($maps -and $maps.Contains('libc.so')) { break }
        Start-Sleep -Milliseconds 20
    }
    Start-Sleep -Milliseconds 100   # let the site threads start their loops
    $process
}

# Kernel mode leaves out the tracer's own process, so kernel allocations come from a child: it makes ten pipes
# every 0.1 s for 4 s (alloc_pipe_info kzallocs, and keeps them while a pipe is open), then holds them for 30 s.
function Start-KernelAllocationLoad {
    $script = Join-Path ([IO.Path]::GetTempPath()) "leaktools-pipes-$PID.py"
    Set-Content -Path $script -Value @(
        'import os, time'
        'held = []'
        'for _ in range(40):'
        '    held += [os.pipe() for _ in range(10)]'
        '    time.sleep(0.1)'
        'time.sleep(30)')
    Start-Process python3 -PassThru -ArgumentList $script
}

function Stop-Fixture($Process) {
    if ($Process -and -not $Process.HasExited) { $Process.Kill(); $Process.WaitForExit(2000) | Out-Null }
}

# Ids of the BPF objects this PowerShell process holds file descriptors for (fdinfo lists prog_id and
# link_id). Other helpers' tests may run the same programs at the same time, so only ours count.
function Get-HeldBpfId([string] $Kind) {
    @(Get-ChildItem -LiteralPath "/proc/$PID/fdinfo" -ErrorAction Ignore | ForEach-Object {
            foreach ($line in (Get-Content -LiteralPath $_.FullName -ErrorAction Ignore)) {
                if ($line -match "^${Kind}_id:\s*(\d+)") { [int]$Matches[1] }
            }
        } | Select-Object -Unique)
}

# LeakTools' BPF programs (named memleak__*) that this process holds.
function Get-OurBpfProgram {
    $held = Get-HeldBpfId prog
    @(& bpftool -j prog show | ConvertFrom-Json | Where-Object {
            $_.PSObject.Properties['name'] -and $_.name -like 'memleak_*' -and $held -contains $_.id
        })
}

# BPF links this process holds whose program is one of LeakTools'.
function Get-OurBpfLink {
    $held = Get-HeldBpfId link
    $programs = @(& bpftool -j prog show | ConvertFrom-Json | Where-Object { $_.PSObject.Properties['name'] -and $_.name -like 'memleak_*' } | ForEach-Object id)
    @(& bpftool -j link show | ConvertFrom-Json | Where-Object {
            $held -contains $_.id -and $_.PSObject.Properties['prog_id'] -and $programs -contains $_.prog_id
        })
}

# Whether any of these program ids still exists anywhere on the machine (the kernel frees a program
# once nothing holds it, so an id seen during a trace must be gone after it).
function Test-BpfProgramAlive([int[]] $Id) {
    $alive = @(& bpftool -j prog show | ConvertFrom-Json | ForEach-Object id)
    @($Id | Where-Object { $alive -contains $_ }).Count -gt 0
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

# Runs a LeakTools command in a second runspace of this process, waits until it has attached and $Ready
# holds ($output, the command's output so far, is in scope there), stops it the way Ctrl+C does, and checks
# that nothing of the trace is left and that $Target still runs. Returns the output and information records.
# $WhileStopping runs as soon as the stop is requested, before the command has finished stopping.
function Invoke-StoppedTrace([string] $Command, [hashtable] $Parameters, $Target, [scriptblock] $Ready = { $true },
    [scriptblock] $WhileStopping = {}, [double] $ReadyTimeout = 15) {
    $ps = [PowerShell]::Create()
    $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
    try {
        $null = $ps.AddCommand('Import-Module').AddParameter('Name', "$RepoRoot/LeakTools.psd1").AddStatement().
            AddCommand($Command).AddParameters($Parameters)
        $null = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output)
        Wait-Until { @(Get-OurBpfProgram).Count -gt 0 -and (& $Ready) } $ReadyTimeout | Should -BeTrue -Because 'the trace attaches and runs'
        $ids = @(Get-OurBpfProgram).id
        $stopping = $ps.BeginStop($null, $null)
        & $WhileStopping
        $ps.EndStop($stopping)
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        Get-OurBpfProgram | Should -BeNullOrEmpty
        Get-OurBpfLink | Should -BeNullOrEmpty
        Test-BpfProgramAlive $ids | Should -BeFalse -Because 'the kernel freed the programs of the trace'
        $Target.HasExited | Should -BeFalse -Because 'the target keeps running'
        [pscustomobject]@{ Output = @($output); Information = @($ps.Streams.Information) }
    }
    finally { $ps.Dispose() }
}

# Whether a uprobe is in place in a function of a process's libc: the kernel writes an int3 (0xcc) at the probed
# instruction, which for LeakTools' sites lies within the function's first 16 bytes. Read through /proc/PID/mem.
function Test-LibcFunctionProbed([int] $ProcessId, [string] $Symbol) {
    $line = [IO.File]::ReadAllLines("/proc/$ProcessId/maps") | Where-Object { $_ -match '/libc\.so' -and $_ -match ' r-xp ' } | Select-Object -First 1
    $fields = $line -split '\s+', 6
    $image = [LeakTools.Symbols.ElfImage]::Open($fields[5])
    try {
        $function = [LeakTools.Symbols.ElfFunction]::new('', 0, 0); $fileOffset = [ulong]0
        if (-not $image.TryFindFunction($Symbol, [ref]$function) -or -not $image.TryGetFileOffset($function.Value, [ref]$fileOffset)) { throw "libc has no $Symbol." }
        $pristine = $image.ReadAtVirtualAddress($function.Value, 16)
    }
    finally { $image.Dispose() }
    $address = [Convert]::ToUInt64(($fields[0] -split '-')[0], 16) + $fileOffset - [Convert]::ToUInt64($fields[2], 16)
    $bytes = [byte[]]::new(16)
    $mem = [IO.File]::OpenRead("/proc/$ProcessId/mem")
    try { $mem.Position = [long]$address; $null = $mem.Read($bytes, 0, 16) } finally { $mem.Dispose() }
    for ($i = 0; $i -lt 16; $i++) { if ($bytes[$i] -eq 0xcc -and $pristine[$i] -ne 0xcc) { return $true } }
    $false
}
