# Which processes the tracing cmdlets trace, and how a target that cannot be traced is reported: one
# non-terminating error with its own id, category, target and a remedy that fits, while the other targets
# are traced. Only what is wrong with the machine or the session (capabilities, kernel symbols) stops a run.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
    . "$PSScriptRoot/ProcfsTestHelpers.ps1"

    # Runs $Script in a fresh PowerShell started through $Prefix (setpriv ...), with the module imported, and
    # returns what the script wrote as JSON.
    function Invoke-FreshPwsh([string[]] $Prefix, [string] $Script) {
        [string[]] $command = @($Prefix) + @(& "$RepoRoot/scripts/Get-PwshCommandLine.ps1")
        $command += '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$RepoRoot/LeakTools.psd1'; $Script"
        $out = & $command[0] $command[1..($command.Count - 1)]
        ($out -join "`n") | ConvertFrom-Json
    }

    # The error records of a run, reduced to what the tests compare, as JSON from a fresh PowerShell.
    $script:DescribeErrors = '@($err | ForEach-Object { [pscustomobject]@{ Id = $_.FullyQualifiedErrorId; Category = $_.CategoryInfo.Category.ToString(); Target = "$($_.TargetObject)"; Message = $_.Exception.Message; Action = $_.ErrorDetails.RecommendedAction } })'
}

# The refused target is made so on purpose, the same on every machine: a root session that holds CAP_SYS_PTRACE
# may read every process's maps, so the tracer runs in a mount namespace of its own in which the target's
# maps, smaps and smaps_rollup are covered by a file of another user with mode 000, and without
# CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (which no tracer needs), so that the kernel refuses to open them.
Describe 'A target the kernel will not show, among others' {
    BeforeAll {
        $script:leaker = Start-Fixture 'leak_sites_fp' @('300')   # outlives the fresh PowerShell's run on a loaded machine; stopped in AfterAll
        $script:refused = Start-Process sleep -ArgumentList 120 -PassThru
        $denied = Join-Path $TestDrive 'denied'
        Set-Content -LiteralPath $denied -Value ''
        & chown 65534:65534 $denied
        & chmod 000 $denied
        $cover = 'for f in maps smaps smaps_rollup; do mount --bind "$1" "/proc/$2/$f" || exit 1; done; shift 2; exec "$@"'
        $noDac = '-dac_override,-dac_read_search'
        $prefix = @('unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', $cover, 'sh', $denied, $refused.Id,
            'setpriv', "--bounding-set=$noDac", "--inh-caps=$noDac")
        $ids = "$($refused.Id), $($leaker.Id)"
        $script:run = Invoke-FreshPwsh -Prefix $prefix -Script @"
# Only the JSON goes to standard output: a warning of a loaded machine (lost data) would come before it.
`$WarningPreference = 'SilentlyContinue'; `$ProgressPreference = 'SilentlyContinue'
`$result = [ordered]@{ RefusedMapsReadable = (Test-Path -LiteralPath /proc/$($refused.Id)/maps) -and `$null -ne (Get-Content /proc/$($refused.Id)/maps -TotalCount 1 -ErrorAction Ignore) }
`$leaks = @(Find-MemoryLeak -Id $ids -Duration 2 -ErrorVariable err -ErrorAction SilentlyContinue)
`$result.ById = [ordered]@{ Errors = $DescribeErrors; ProcessIds = @(`$leaks.ProcessId | Sort-Object -Unique); LeakMallocSites = @(@(`$leaks.StackText) -match '^leak_malloc\+').Count }
`$leaks = @(Get-Process -Id $ids | Find-MemoryLeak -Duration 2 -ErrorVariable err -ErrorAction SilentlyContinue)
`$result.FromPipeline = [ordered]@{ Errors = $DescribeErrors; ProcessIds = @(`$leaks.ProcessId | Sort-Object -Unique) }
`$maps = @(Get-ProcessMemoryMap -Id $ids -ErrorVariable err -ErrorAction SilentlyContinue)
`$null = Get-ProcessMemory -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction SilentlyContinue
`$result.Procfs = [ordered]@{ Errors = $DescribeErrors; ProcessIds = @(`$maps.ProcessId | Sort-Object -Unique); Warnings = @(`$warnings.Message) }
`$events = @(Watch-Allocation -Id $ids -Duration 1 -ErrorVariable err -ErrorAction SilentlyContinue)
`$result.Watch = [ordered]@{ Errors = $DescribeErrors; Events = `$events.Count; ProcessIds = @(`$events.ProcessId | Sort-Object -Unique) }
`$result | ConvertTo-Json -Depth 5
"@
    }
    AfterAll {
        Stop-Fixture $leaker
        Stop-Process -Id $refused.Id -ErrorAction Ignore
    }

    It 'is refused the target''s maps in the tracer''s namespace only (what the tests below rely on)' {
        $run.RefusedMapsReadable | Should -BeFalse
        Get-Content "/proc/$($refused.Id)/maps" -TotalCount 1 | Should -Match '^[0-9a-f]+-[0-9a-f]+ '
    }

    It 'reports the refused target as one non-terminating TracerTargetAccessDenied, and traces the leaker (-Id)' {
        $err = @($run.ById.Errors)
        $err.Count | Should -Be 1
        $err[0].Id | Should -Be 'TracerTargetAccessDenied,LeakTools.Commands.FindMemoryLeakCommand'
        $err[0].Category | Should -Be 'PermissionDenied'
        $err[0].Target | Should -Be $refused.Id
        # Root with CAP_SYS_PTRACE: the remedy says what else refuses, never "run as root".
        $err[0].Action | Should -Match 'already root with CAP_SYS_PTRACE'
        $err[0].Action | Should -Not -Match 'sudo'
        $run.ById.ProcessIds | Should -Be $leaker.Id
        $run.ById.LeakMallocSites | Should -Be 1
    }

    It 'does the same for processes from the pipeline (Get-Process | Find-MemoryLeak)' {
        $err = @($run.FromPipeline.Errors)
        $err.Count | Should -Be 1
        $err[0].Id | Should -Be 'TracerTargetAccessDenied,LeakTools.Commands.FindMemoryLeakCommand'
        $err[0].Category | Should -Be 'PermissionDenied'
        $err[0].Target | Should -Be $refused.Id
        $run.FromPipeline.ProcessIds | Should -Be $leaker.Id
    }

    It 'tells root what refuses it in the procfs cmdlets too, never to run as root' {
        $err = @($run.Procfs.Errors)
        $err.Count | Should -Be 1
        $err[0].Id | Should -Be 'ProcessAccessDenied,LeakTools.Commands.GetProcessMemoryMapCommand'
        $err[0].Category | Should -Be 'PermissionDenied'
        $err[0].Target | Should -Be $refused.Id
        $err[0].Action | Should -Match 'already root with CAP_SYS_PTRACE'
        $err[0].Action | Should -Not -Match 'sudo'
        $run.Procfs.ProcessIds | Should -Be $leaker.Id
        # Every process: the refused ones cost one warning, which must not tell root to become root either.
        @($run.Procfs.Warnings).Count | Should -Be 1
        $run.Procfs.Warnings[0] | Should -Match 'although this session has CAP_SYS_PTRACE'
        $run.Procfs.Warnings[0] | Should -Not -Match 'Run as root'
    }

    It 'streams the leaker''s calls and reports the refused target once (Watch-Allocation)' {
        $err = @($run.Watch.Errors)
        $err.Count | Should -Be 1
        $err[0].Id | Should -Be 'TracerTargetAccessDenied,LeakTools.Commands.WatchAllocationCommand'
        $err[0].Category | Should -Be 'PermissionDenied'
        $err[0].Target | Should -Be $refused.Id
        $run.Watch.Events | Should -BeGreaterThan 0
        $run.Watch.ProcessIds | Should -Be $leaker.Id
    }
}

Describe 'Kernel threads and zombies as trace targets' {
    BeforeAll {
        $script:leaker = Start-Fixture 'leak_sites_fp' @('300')   # outlives the fresh PowerShell's run on a loaded machine; stopped in AfterAll
        $script:zombie = Start-ZombieProcess
    }
    AfterAll {
        Stop-Fixture $leaker
        Stop-ProcfsTestProcess
    }

    It '<Command> says process 2 is a kernel thread, says the zombie has exited, and traces the leaker' -ForEach @(
        @{ Command = 'Find-MemoryLeak'; Type = 'FindMemoryLeakCommand' }
        @{ Command = 'Watch-Allocation'; Type = 'WatchAllocationCommand' }
    ) {
        $output = @(& $Command -Id 2, $zombie.Id, $leaker.Id -Duration 1 -ErrorVariable err -ErrorAction SilentlyContinue)
        $err.Count | Should -Be 2
        $err[0].FullyQualifiedErrorId | Should -Be "TracerTargetIsKernelThread,LeakTools.Commands.$Type"
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -Be 2
        $err[0].Exception.Message | Should -Match 'kernel thread'
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-Kernel'
        $err[1].FullyQualifiedErrorId | Should -Be "TracerTargetIsZombie,LeakTools.Commands.$Type"
        $err[1].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[1].TargetObject | Should -Be $zombie.Id
        $err[1].Exception.Message | Should -Match "zombie.*parent \(process $($zombie.Parent.Id)\)"
        $output.Count | Should -BeGreaterThan 0
        $output.ProcessId | Sort-Object -Unique | Should -Be $leaker.Id
    }
}

Describe '-Name leaves out the tracer''s own process' {
    It 'says so in -Verbose, and a name that matches only the tracer is not found' {
        # A PowerShell whose process name is unique: the kernel names a process after the file it executed.
        $exe = [Environment]::ProcessPath
        $link = Join-Path $TestDrive 'lt-self-test'
        New-Item -ItemType SymbolicLink -Path $link -Target $exe | Out-Null
        [string[]] $command = @(& "$RepoRoot/scripts/Get-PwshCommandLine.ps1")
        $command[0] = $link
        $script = "Import-Module '$RepoRoot/LeakTools.psd1'; `$leaks = @(Find-MemoryLeak -Name lt-self-test -Duration 1 -Verbose -ErrorVariable err -ErrorAction SilentlyContinue 4>&1 | Where-Object { `$_ -is [System.Management.Automation.VerboseRecord] }); " +
            "[pscustomobject]@{ Pid = `$PID; Comm = (Get-Content /proc/`$PID/comm); Verbose = @(`$leaks.Message); Errors = @(`$err.FullyQualifiedErrorId); Targets = @(`$err.TargetObject) } | ConvertTo-Json"
        $result = (& $command[0] $command[1..($command.Count - 1)] -NoProfile -NonInteractive -Command $script) -join "`n" | ConvertFrom-Json
        $result.Comm | Should -Be 'lt-self-test'
        @($result.Verbose) | Should -Contain "Leaving out process $($result.Pid) (lt-self-test), which -Name `"lt-self-test`" matches: it is this PowerShell session, and tracing the tracer would report its own allocations as the target's."
        @($result.Errors) | Should -Be @('NoProcessFoundForGivenName,LeakTools.Commands.FindMemoryLeakCommand')
        @($result.Targets) | Should -Be @('lt-self-test')
    }
}

# A root session without CAP_SYSLOG (its bounding set lacks it, so its effective set does too): /proc/kallsyms
# shows it zeros, so kernel stacks cannot be named; kernel events without stacks need no symbols.
Describe '-Kernel without CAP_SYSLOG' {
    It '<Name> fails up front with TracerMissingCapabilities naming CAP_SYSLOG' -ForEach @(
        @{ Name = 'Find-MemoryLeak -Kernel'; Run = 'Find-MemoryLeak -Kernel -Duration 1'; Type = 'FindMemoryLeakCommand' }
        @{ Name = 'Watch-Allocation -Kernel -IncludeStack'; Run = 'Watch-Allocation -Kernel -IncludeStack -Duration 1'; Type = 'WatchAllocationCommand' }
    ) {
        $result = Invoke-FreshPwsh -Prefix @('setpriv', '--bounding-set=-syslog') -Script (
            "`$err = @(); try { $Run -ErrorAction Stop | Out-Null } catch { `$err = @(`$_) }; ConvertTo-Json -InputObject @($DescribeErrors)")
        @($result).Count | Should -Be 1
        $result[0].Id | Should -Be "TracerMissingCapabilities,LeakTools.Commands.$Type"
        $result[0].Category | Should -Be 'PermissionDenied'
        $result[0].Message | Should -Match 'CAP_SYSLOG'
        $result[0].Message | Should -Match 'kallsyms'
        $result[0].Action | Should -Match '\+syslog'
        $result[0].Action | Should -Match 'AmbientCapabilities=.*CAP_SYSLOG'
    }

    It 'streams kernel events without stacks (Watch-Allocation -Kernel)' {
        $result = Invoke-FreshPwsh -Prefix @('setpriv', '--bounding-set=-syslog') -Script @'
$load = Start-Process sh -ArgumentList '-c "for i in $(seq 200); do cat /proc/self/stat > /dev/null; done"' -PassThru
$events = @(Watch-Allocation -Kernel -Duration 1 -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
$load.WaitForExit()
$capEff = [Convert]::ToUInt64((Select-String '^CapEff:\s*(\w+)' /proc/self/status).Matches[0].Groups[1].Value, 16)
[pscustomobject]@{ Events = $events.Count; Errors = @($err | ForEach-Object FullyQualifiedErrorId); HasSyslog = ($capEff -band (1L -shl 34)) -ne 0 } | ConvertTo-Json
'@
        $result.HasSyslog | Should -BeFalse -Because 'the session really lacks CAP_SYSLOG'

        @($result.Errors) | Should -BeNullOrEmpty
        $result.Events | Should -BeGreaterThan 0
    }
}

Describe 'The capability remedy' {
    It 'recommends ambient capabilities for the session, and warns against setcap on the shared dotnet host' {
        $result = Invoke-FreshPwsh -Prefix @('setpriv', '--bounding-set=-bpf,-perfmon,-sys_admin') -Script (
            "`$err = @(); try { Find-MemoryLeak -Id `$PID -Duration 1 -ErrorAction Stop | Out-Null } catch { `$err = @(`$_) }; ConvertTo-Json -InputObject @($DescribeErrors)")
        $result[0].Id | Should -Be 'TracerMissingCapabilities,LeakTools.Commands.FindMemoryLeakCommand'
        $result[0].Action | Should -Match 'setpriv .*--ambient-caps=\+bpf,\+perfmon,\+sys_ptrace'
        $result[0].Action | Should -Match 'AmbientCapabilities=CAP_BPF CAP_PERFMON CAP_SYS_PTRACE'
        $result[0].Action | Should -Match 'Do not setcap .*shared dotnet host.*every \.NET program'
        # The session is root with a reduced bounding set: "run as root" would not help it.
        $result[0].Action | Should -Match '^This session is root, but its capabilities were reduced'
        $result[0].Action | Should -Not -Match 'sudo pwsh'
    }
}
