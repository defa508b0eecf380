# The tracing cmdlets run by an unprivileged user (nobody), through setpriv: with no capabilities they fail
# with TracerMissingCapabilities naming what is missing; with exactly CAP_BPF + CAP_PERFMON + CAP_SYS_PTRACE
# as ambient capabilities they trace a process of the same user; -Kernel needs CAP_SYSLOG as well, for the
# kernel's symbols, except Watch-Allocation without stacks, which names no symbol.
#
# Ambient capabilities survive the setuid of setpriv and the exec of dotnet, and nothing else gives them
# to a non-root process (setcap on the shared dotnet host would give them to every .NET program). Each case
# is one child PowerShell; its results come back as JSON in a file.

BeforeAll {
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"

    $script:Nobody = 65534
    $script:Sandbox = Join-Path ([IO.Path]::GetTempPath()) "leaktools-unprivileged-$PID"
    $script:SandboxHome = Join-Path $Sandbox 'home'
    $null = New-Item -ItemType Directory -Force -Path $SandboxHome
    & chown "${Nobody}:${Nobody}" $SandboxHome

    # nobody may not read root's home, where the pinned pwsh and often the repository live: copy PowerShell,
    # the built module and the fixture into a directory everyone can read.
    $pwshLine = @(& "$RepoRoot/scripts/Get-PwshCommandLine.ps1")
    Copy-Item -Recurse -LiteralPath $PSHOME -Destination (Join-Path $Sandbox 'pwsh')
    $script:PwshCommand = if ($pwshLine.Count -gt 1) {
        @($pwshLine[0], (Join-Path $Sandbox "pwsh/$(Split-Path -Leaf $pwshLine[1])"))
    }
    else { @(Join-Path $Sandbox "pwsh/$(Split-Path -Leaf $pwshLine[0])") }
    $script:ModuleCopy = Join-Path $Sandbox 'LeakTools'
    $null = New-Item -ItemType Directory -Force -Path $ModuleCopy
    Copy-Item -LiteralPath "$RepoRoot/LeakTools.psd1" -Destination $ModuleCopy
    Copy-Item -Recurse -LiteralPath "$RepoRoot/bin", "$RepoRoot/en-US" -Destination $ModuleCopy
    $script:Fixture = Join-Path $Sandbox 'leak_sites_fp'
    Copy-Item -LiteralPath (Join-Path $FixtureDir 'leak_sites_fp') -Destination $Fixture
    & chmod -R a+rX $Sandbox

    # Runs $Body in a PowerShell of user nobody holding exactly the $Capabilities (setpriv names, such as
    # 'bpf'), with the module imported, and returns the hashtable it fills in $result. Capture { ... } runs a
    # command and records its output or the error that stopped it.
    function Invoke-Unprivileged([string[]] $Capabilities, [string] $Body) {
        $script = Join-Path $Sandbox "case-$([guid]::NewGuid().ToString('N')).ps1"
        $out = Join-Path $SandboxHome "$(Split-Path -LeafBase $script).json"
        Set-Content -LiteralPath $script -Value @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModuleCopy/LeakTools.psd1'
`$result = [ordered]@{
    Uid    = [int](& id -u)
    CapEff = (@(Get-Content /proc/self/status) -match '^CapEff:')[0] -replace '^CapEff:\s*'
}
function Capture([scriptblock] `$Command) {
    try { [ordered]@{ Output = @(& `$Command); Error = `$null } }
    catch {
        [ordered]@{ Output = @(); Error = [ordered]@{
            Id = `$_.FullyQualifiedErrorId; Category = "`$(`$_.CategoryInfo.Category)"; Message = `$_.Exception.Message
            Remedy = if (`$_.ErrorDetails) { `$_.ErrorDetails.RecommendedAction } } }
    }
}
$Body
`$result | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath '$out'
"@
        & chmod a+r $script
        $capabilityArguments = if ($Capabilities) {
            $list = ($Capabilities | ForEach-Object { "+$_" }) -join ','
            "--inh-caps=$list", "--ambient-caps=$list"
        }
        $childOutput = & setpriv "--reuid=$Nobody" "--regid=$Nobody" --clear-groups @capabilityArguments `
            env "HOME=$SandboxHome" "DOTNET_CLI_HOME=$SandboxHome" "LEAKTOOLS_DEBUG_DIRS=$env:LEAKTOOLS_DEBUG_DIRS" `
            @PwshCommand -NoProfile -NonInteractive -File $script 2>&1
        Test-Path -LiteralPath $out | Should -BeTrue -Because "the child ran to its end: $($childOutput -join "`n")"
        Get-Content -Raw -LiteralPath $out | ConvertFrom-Json -AsHashtable
    }

    # CapEff bits of capability numbers.
    function Get-CapabilityMask([int[]] $Number) {
        [uint64] $mask = 0
        foreach ($n in $Number) { $mask = $mask -bor ([uint64]1 -shl $n) }
        '{0:x16}' -f $mask
    }
    $script:CapSysPtrace = 19; $script:CapSyslog = 34; $script:CapPerfmon = 38; $script:CapBpf = 39
}

AfterAll {
    Remove-Item -Recurse -Force -LiteralPath $Sandbox -ErrorAction Ignore
}

Describe 'Tracing without capabilities' {
    BeforeAll {
        $script:target = Start-Process setpriv -ArgumentList "--reuid=$Nobody", "--regid=$Nobody", '--clear-groups', $Fixture, '30' `
            -RedirectStandardOutput /dev/null -PassThru
        $script:run = Invoke-Unprivileged @() @"
`$result.Find = Capture { Find-MemoryLeak -Id $($target.Id) -Duration 1 }
`$result.Watch = Capture { Watch-Allocation -Id $($target.Id) -Duration 1 }
"@
    }
    AfterAll { Stop-Fixture $target }

    It 'runs as nobody with no effective capability' {
        $run.Uid | Should -Be $Nobody
        $run.CapEff | Should -Be (Get-CapabilityMask @())
    }

    It '<Cmdlet> fails with TracerMissingCapabilities naming CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE' -ForEach @(
        @{ Cmdlet = 'Find-MemoryLeak'; Case = 'Find'; Type = 'FindMemoryLeakCommand' }
        @{ Cmdlet = 'Watch-Allocation'; Case = 'Watch'; Type = 'WatchAllocationCommand' }
    ) {
        $failure = $run[$Case].Error
        $failure | Should -Not -BeNullOrEmpty
        $failure.Id | Should -BeExactly "TracerMissingCapabilities,LeakTools.Commands.$Type"
        $failure.Category | Should -BeExactly 'PermissionDenied'
        $failure.Message | Should -Match 'CAP_BPF'
        $failure.Message | Should -Match 'CAP_PERFMON'
        $failure.Message | Should -Match 'CAP_SYS_PTRACE'
        $failure.Remedy | Should -Not -BeNullOrEmpty
    }
}

Describe 'Tracing with exactly CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE' {
    BeforeAll {
        $script:target = Start-Process setpriv -ArgumentList "--reuid=$Nobody", "--regid=$Nobody", '--clear-groups', $Fixture, '30' `
            -RedirectStandardOutput /dev/null -PassThru
        Wait-Until { (Get-Content -LiteralPath "/proc/$($target.Id)/maps" -Raw -ErrorAction Ignore) -match 'libc\.so' } 5 | Should -BeTrue
        $script:run = Invoke-Unprivileged @('bpf', 'perfmon', 'sys_ptrace') @"
`$result.Find = Capture {
    Find-MemoryLeak -Id $($target.Id) -Duration 2 -OlderThan 0.5 |
        ForEach-Object { @{ Caller = `$_.Stack[0].Symbol; Bytes = `$_.Bytes; Count = `$_.Count; ProcessId = `$_.ProcessId } }
}
`$result.FindKernel = Capture { Find-MemoryLeak -Kernel -Duration 1 -WarningAction SilentlyContinue | Measure-Object | ForEach-Object Count }
`$result.WatchKernel = Capture { Watch-Allocation -Kernel -Duration 1 | Measure-Object | ForEach-Object Count }
"@
    }
    AfterAll { Stop-Fixture $target }

    It 'runs as nobody with just those three capabilities, the fixture as nobody too' {
        $run.Uid | Should -Be $Nobody
        $run.CapEff | Should -Be (Get-CapabilityMask $CapBpf, $CapPerfmon, $CapSysPtrace)
        (Get-Content -LiteralPath "/proc/$($target.Id)/status" | Select-String '^Uid:').Line -split '\s+' | Select-Object -Index 1 |
            Should -Be $Nobody
    }

    It 'Find-MemoryLeak finds the leak of a process of the same user' {
        $run.Find.Error | Should -BeNullOrEmpty
        $leak = @($run.Find.Output | Where-Object { $_.Caller -eq 'leak_malloc' })
        $leak.Count | Should -Be 1
        $leak[0].ProcessId | Should -Be $target.Id
        $leak[0].Bytes / $leak[0].Count | Should -Be 1000
        $leak[0].Count | Should -BeGreaterThan 50 -Because 'the fixture leaks 100 blocks a second'
    }

    It 'Find-MemoryLeak -Kernel fails up front with TracerMissingCapabilities naming CAP_SYSLOG' {
        $failure = $run.FindKernel.Error
        $failure | Should -Not -BeNullOrEmpty
        $failure.Id | Should -BeExactly 'TracerMissingCapabilities,LeakTools.Commands.FindMemoryLeakCommand'
        $failure.Category | Should -BeExactly 'PermissionDenied'
        $failure.Message | Should -Match 'CAP_SYSLOG'
        $failure.Remedy | Should -Not -BeNullOrEmpty
    }

    It 'Watch-Allocation -Kernel without -IncludeStack needs no kernel symbols, so no CAP_SYSLOG' {
        $run.WatchKernel.Error | Should -BeNullOrEmpty
        $run.WatchKernel.Output[0] | Should -BeGreaterThan 0
    }
}

Describe 'Tracing the kernel with CAP_SYSLOG added' {
    BeforeAll {
        $script:pipes = Start-KernelAllocationLoad
        $script:run = Invoke-Unprivileged @('bpf', 'perfmon', 'sys_ptrace', 'syslog') @'
$result.FindKernel = Capture {
    Find-MemoryLeak -Kernel -Duration 2 -OlderThan 0 -Top 0 -WarningAction SilentlyContinue |
        ForEach-Object { @{ Caller = $_.Stack[0].Symbol; IsKernel = $_.Stack[0].IsKernel; Bytes = $_.Bytes } }
}
'@
    }
    AfterAll { Stop-Fixture $pipes }

    It 'runs as nobody with the four capabilities' {
        $run.Uid | Should -Be $Nobody
        $run.CapEff | Should -Be (Get-CapabilityMask $CapBpf, $CapPerfmon, $CapSysPtrace, $CapSyslog)
    }

    It 'Find-MemoryLeak -Kernel succeeds and names kernel functions' {
        $run.FindKernel.Error | Should -BeNullOrEmpty
        @($run.FindKernel.Output).Count | Should -BeGreaterThan 0
        @($run.FindKernel.Output | Where-Object { $_.IsKernel -and $_.Caller -match '^[A-Za-z_][\w.]*$' }) | Should -Not -BeNullOrEmpty
    }
}
