# Find-MemoryLeak on real processes with real eBPF. The fixtures (tests/fixtures/*.c) leak at known
# sites with known sizes every 10 ms; each site runs on its own thread; churn_step mallocs and frees.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"

    # Site => bytes per allocation, as leak_sites.c makes them.
    $script:LeakSites = [ordered]@{
        leak_malloc         = 1000
        leak_calloc         = 1200
        leak_realloc        = 1400
        leak_posix_memalign = 1600
        leak_aligned_alloc  = 1792
        leak_mmap           = 16384
    }
    $script:StepsPerSecond = 100   # leak_sites steps every 10 ms
}

Describe 'Find-MemoryLeak names leak sites in a <Flavour> build' -ForEach @(
    @{ Flavour = 'fp' }
    @{ Flavour = 'nofp' }
    @{ Flavour = 'pie' }
    @{ Flavour = 'stripped' }
) {
    BeforeAll {
        $script:process = Start-Fixture "leak_sites_$Flavour"
        $script:duration = 2.0
        $script:olderThan = 0.5
        $script:leaks = @(Find-MemoryLeak -Id $process.Id -Duration $duration -OlderThan $olderThan -IncludeAddresses -WarningVariable warnings)
        $script:traceWarnings = $warnings
    }
    AfterAll { Stop-Fixture $process }

    It 'reports <_> as a direct caller with its allocation size' -ForEach @('leak_malloc', 'leak_calloc', 'leak_realloc', 'leak_posix_memalign', 'leak_aligned_alloc', 'leak_mmap') {
        $site = $_
        $leak = @($leaks | Where-Object { (Get-DirectCaller $_) -eq $site })
        $leak.Count | Should -Be 1 -Because "one stack allocates in $site"
        $leak[0].Bytes / $leak[0].Count | Should -Be $LeakSites[$site]
        $leak[0].ProcessId | Should -Be $process.Id
        $leak[0].ProcessName | Should -Be (Get-Content "/proc/$($process.Id)/comm")
        $leak[0].Stack[0].Module | Should -Be "leak_sites_$Flavour"
        $leak[0].StackText | Should -Match "^$site\+0x[0-9a-f]+"
        @($leak[0].Addresses).Count | Should -Be $leak[0].Count
    }

    It 'leaves the verdict properties empty without -Verdict' {
        $leaks.Count | Should -BeGreaterThan 0
        foreach ($leak in $leaks) {
            @($leak.Verdict, $leak.DirectBytes, $leak.IndirectBytes, $leak.Confirmed, $leak.Referrers | Where-Object { $null -ne $_ }) | Should -BeNullOrEmpty
            $leak.PSObject.TypeNames[0] | Should -Be 'LeakTools.Model.MemoryLeak' -Because 'the view without a verdict column'
        }
    }

    It 'names the whole thread stack, with or without frame pointers' {
        $leak = $leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' }
        $leak.StackText | Should -Match '^leak_malloc\+0x[0-9a-f]+ ← site_thread\+0x[0-9a-f]+ ← start_thread\+0x[0-9a-f]+ ← clone3\+0x[0-9a-f]+$'
        $leak.Stack[2].Module | Should -Be 'libc.so.6'
        $leak.StackComplete | Should -BeTrue
        $leak.StackEnd | Should -Be 'EndOfStack'
    }

    It 'counts bytes within tolerance of rate x window' {
        $leak = $leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' }
        # Allocations from the start of the trace until -OlderThan before the report count.
        $window = $duration - $olderThan
        $expected = $StepsPerSecond * $window * 1000
        # usleep(10 ms) only ever sleeps longer, so the fixture runs at most at its nominal rate.
        $leak.Bytes | Should -BeLessOrEqual ($expected * 1.05 + 1000)
        $leak.Bytes | Should -BeGreaterOrEqual ($expected * 0.5)
        $leak.BytesPerSecond | Should -BeGreaterOrEqual ($StepsPerSecond * 1000 * 0.5)
        $leak.BytesPerSecond | Should -BeLessOrEqual ($StepsPerSecond * 1000 * 1.1)
        $leak.OldestAge.TotalSeconds | Should -BeGreaterOrEqual $olderThan
        $leak.OldestAge.TotalSeconds | Should -BeLessOrEqual ($duration + 1)
    }

    It 'never reports the malloc/free churn loop, nor the block realloc freed' {
        @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'churn_step' }) | Should -BeNullOrEmpty
        @($leaks | Where-Object { $_.Bytes / $_.Count -eq 2000 }) | Should -BeNullOrEmpty
        @($leaks | Where-Object { $_.Bytes / $_.Count -eq 100 }) | Should -BeNullOrEmpty
    }

    It 'sorts by bytes, largest first, and says what was lost' {
        $bytes = @($leaks.Bytes)
        $bytes | Should -Be @($bytes | Sort-Object -Descending)
        $leaks[0].Lost | Should -Not -BeNullOrEmpty
        $leaks[0].Lost.GetType().FullName | Should -Be 'LeakTools.Model.TraceLoss'
        # Losses depend on the machine's load: whichever way, one warning exactly when something was lost.
        @($traceWarnings).Count | Should -Be ([int](-not $leaks[0].Lost.IsEmpty)) -Because "$($leaks[0].Lost)"
        @($traceWarnings) -notmatch 'lost data' | Should -BeNullOrEmpty
    }
}

Describe 'Find-MemoryLeak on the classic case in its own mount namespace' {
    BeforeAll {
        $script:app = & "$PSScriptRoot/../../scripts/Start-ContainedProcess.ps1" -Path (Join-Path $FixtureDir 'fibonacci_fp') `
            -ArgumentList '20', '10' -StandardOutputPath /dev/null
        $script:leaks = @(Find-MemoryLeak -Id $app.ProcessId -Duration 2)
    }
    AfterAll { Stop-Process -Id $app.ProcessId -ErrorAction Ignore }

    It 'runs the target as /app, a path the host does not have, with its own copy of libc' {
        (Get-Item "/proc/$($app.ProcessId)/exe").LinkTarget | Should -Be '/app'
        Test-Path /app | Should -BeFalse
        $libc = (Get-Content "/proc/$($app.ProcessId)/maps" | Where-Object { $_ -match 'libc\.so' } | Select-Object -First 1) -replace '^.*\s(/\S+)$', '$1'
        $theirs = & stat -L -c '%d:%i' "/proc/$($app.ProcessId)/root$libc"
        $ours = & stat -L -c '%d:%i' $libc
        $theirs | Should -Not -Be $ours
    }

    It 'shows 8192-byte allocations from fibonacci ← child ← start_thread' {
        $leak = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'fibonacci' })
        $leak.Count | Should -Be 1
        $leak[0].Bytes / $leak[0].Count | Should -Be 8192
        $leak[0].Count | Should -BeGreaterThan 50
        @($leak[0].Stack.Symbol)[0..2] | Should -Be @('fibonacci', 'child', 'start_thread')
        $leak[0].StackText | Should -Match '^fibonacci\+0x[0-9a-f]+ ← child\+0x[0-9a-f]+ ← start_thread'
        $leak[0].Stack[0].ModulePath | Should -Be '/app'
    }

    It 'shows the stack in the default view' {
        $text = $leaks | Out-String -Width 200
        $text | Should -Match 'Bytes'
        $text | Should -Match 'fibonacci\+0x[0-9a-f]+ ← child\+0x[0-9a-f]+ ← start_thread'
    }

    It 'survives serialization with its stack' {
        $leak = $leaks | Where-Object { (Get-DirectCaller $_) -eq 'fibonacci' }
        $json = $leak | ConvertTo-Json -Depth 4 | ConvertFrom-Json
        $json.StackText | Should -Be $leak.StackText
        $json.Stack[0].Symbol | Should -Be 'fibonacci'
        $json.Bytes | Should -Be $leak.Bytes
        $file = Join-Path ([IO.Path]::GetTempPath()) "leaktools-$PID.xml"
        try {
            $leak | Export-Clixml -Path $file
            $back = Import-Clixml -Path $file
            $back.Stack[1].Symbol | Should -Be 'child'
            $back.Lost.MapFull | Should -Be $leak.Lost.MapFull
            ($back | Out-String -Width 200) | Should -Match 'fibonacci\+0x[0-9a-f]+ ← child'
        }
        finally { Remove-Item $file -ErrorAction Ignore }
    }
}

Describe 'Find-MemoryLeak keeps thousands of distinct stacks apart' {
    # native/bench/outstanding (built with frame pointers) makes 4 allocations from each of 5,000 stacks, each
    # spelled by its own chain of return addresses, once its malloc carries a uprobe. The kernel's 32-bit stack
    # map used to lose one of two colliding stacks; every stack must come back whole and apart.
    BeforeAll {
        $psi = [Diagnostics.ProcessStartInfo]::new((Join-Path $RepoRoot 'native/build/outstanding'), [string[]]@('-n', '20000', '-k', '5000', '-w', '30'))
        $psi.RedirectStandardOutput = $true
        $script:process = [Diagnostics.Process]::Start($psi)
        $process.StandardOutput.ReadLine() | Should -Match '^ready'
        $script:leaks = @(Find-MemoryLeak -Id $process.Id -Duration 6 -OlderThan 0 -WarningVariable warnings)   # 20,000 traced calls take a while on a loaded machine
        $script:traceWarnings = $warnings
        $script:allocated = $process.StandardOutput.ReadLine()
    }
    AfterAll { Stop-Fixture $process }

    It 'reports every stack once with its 4 allocations' {
        $allocated | Should -Match '^allocated count=20000 stacks=5000'
        $fromChains = @($leaks | Where-Object StackText -Match '^allocate_here\+')
        $fromChains.Count | Should -Be 5000
        @($fromChains | Where-Object { $_.Count -ne 4 -or $_.Bytes -ne 128 }).Count | Should -Be 0
        @($fromChains.StackText | Sort-Object -Unique).Count | Should -Be 5000
    }

    It 'names every frame down to main' {
        # 5,000 stacks: chain() recurses once per digit (4) and once more to allocate.
        $sample = $leaks | Where-Object StackText -Match '^allocate_here\+' | Select-Object -First 20
        foreach ($leak in $sample) {
            $leak.StackText | Should -Match '^allocate_here\+0x[0-9a-f]+( ← chain\+0x[0-9a-f]+){5} ← main\+0x[0-9a-f]+'
        }
    }

    It 'loses nothing' {
        $leaks[0].Lost.IsEmpty | Should -BeTrue -Because "$($leaks[0].Lost)"
        $traceWarnings | Should -BeNullOrEmpty
    }
}

Describe 'Find-MemoryLeak -Command' {
    It 'catches allocations made in main before any delay and lets the command finish' {
        $program = Join-Path $FixtureDir 'early_alloc_fp'
        $leaks = @(Find-MemoryLeak -Command $program, '0.5' -OlderThan 0)
        $leak = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'main' -and $_.Bytes / $_.Count -eq 33333 })
        $leak.Count | Should -Be 1
        $leak[0].Count | Should -Be 3
        $leak[0].ProcessName | Should -Be 'early_alloc_fp'
    }

    It 'starts a relative path from the current location, and reports a program that does not exist' {
        Push-Location $FixtureDir
        try { $leaks = @(Find-MemoryLeak -Command ./early_alloc_fp, '0.3' -OlderThan 0) }
        finally { Pop-Location }
        @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'main' }).Count | Should -Be 1
        { Find-MemoryLeak -Command ./no-such-program-leaktools -ErrorAction Stop } |
            Should -Throw -ErrorId 'TraceCommandNotFound,LeakTools.Commands.FindMemoryLeakCommand'
    }

    It 'kills a command still running when -Duration ends, never leaving it paused' {
        $program = Join-Path $FixtureDir 'early_alloc_fp'
        $leaks = @(Find-MemoryLeak -Command $program, '30' -Duration 1 -OlderThan 0)
        $leak = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'main' })
        $leak[0].Count | Should -Be 3
        $pid_ = $leak[0].ProcessId
        Wait-Until { -not (Test-Path "/proc/$pid_") -or (Get-Content "/proc/$pid_/stat" -Raw) -match '^\d+ \(.*\) Z' } 5 | Should -BeTrue
    }
}

Describe 'Find-MemoryLeak -Interval -Count' {
    It 'emits one report per interval, each growing' {
        $process = Start-Fixture 'leak_sites_fp'
        try {
            $all = @(Find-MemoryLeak -Id $process.Id -Interval 0.6 -Count 2 -OlderThan 0 -Top 3 -Verbose 4>&1)
            $leaks = @($all | Where-Object { $_ -is [LeakTools.Model.MemoryLeak] })
            # -Verbose says where each allocator is probed and why.
            $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            @($verbose -match '^Probe malloc in \S+: entry 0x[0-9a-f]+').Count | Should -Be 1
            @($verbose -match '^Probe free in \S+: .*chosen').Count | Should -Be 1
            $reports = @($leaks | Group-Object Timestamp)
            $reports.Count | Should -Be 2
            $reports | ForEach-Object { $_.Count | Should -BeLessOrEqual 3 }
            $first = $reports[0].Group | Where-Object { (Get-DirectCaller $_) -eq 'leak_mmap' }
            $second = $reports[1].Group | Where-Object { (Get-DirectCaller $_) -eq 'leak_mmap' }
            $second.Bytes | Should -BeGreaterThan $first.Bytes
            $second.TraceDuration | Should -BeGreaterThan $first.TraceDuration
        }
        finally { Stop-Fixture $process }
    }
}

Describe 'Find-MemoryLeak with processes from the pipeline' {
    It 'traces every piped process at once and reports each' {
        $fp = Start-Fixture 'leak_sites_fp'
        $pie = Start-Fixture 'leak_sites_pie'
        try {
            $leaks = @($fp, $pie | Find-MemoryLeak -Duration 1)
            @($leaks.ProcessId | Select-Object -Unique | Sort-Object) | Should -Be @(@($fp.Id, $pie.Id) | Sort-Object)
            foreach ($process in $fp, $pie) {
                @($leaks | Where-Object { $_.ProcessId -eq $process.Id -and (Get-DirectCaller $_) -eq 'leak_calloc' }).Count | Should -Be 1
            }
            $byProperty = @([pscustomobject]@{ ProcessId = $fp.Id } | Find-MemoryLeak -Duration 1 -Top 1)
            $byProperty.Count | Should -Be 1
            $byProperty[0].ProcessId | Should -Be $fp.Id
            (Get-DirectCaller $byProperty[0]) | Should -Be 'leak_mmap'
        }
        finally { Stop-Fixture $fp; Stop-Fixture $pie }
    }
}

Describe 'Find-MemoryLeak -Kernel' {
    It 'sees kmalloc with a kernel stack' {
        # A quiet machine may hold no new kmalloc at the end of a short window: a child keeps making pipes.
        $pipes = Start-KernelAllocationLoad
        try {
            $leaks = @(Find-MemoryLeak -Kernel -Duration 2 -OlderThan 0 -Top 0 -WarningAction SilentlyContinue)
        }
        finally {
            Stop-Process -Id $pipes.Id -ErrorAction Ignore
        }
        $leaks.Count | Should -BeGreaterThan 0
        $kmalloc = @($leaks | Where-Object { $_.Stack.Symbol -match 'kmalloc' })
        $kmalloc.Count | Should -BeGreaterThan 0
        $kmalloc[0].Stack[0].IsKernel | Should -BeTrue
        $kmalloc[0].Stack[0].Module | Should -Be '[kernel]'
        $kmalloc[0].ProcessName | Should -Be '[kernel]'
        $kmalloc[0].StackText | Should -Match 'kmalloc\S*\+0x[0-9a-f]+'
        # The pipes made during the window are held: their kzalloc site is named.
        @($kmalloc | Where-Object StackText -Match 'kmalloc\S*\+0x[0-9a-f]+ ← alloc_pipe_info\+').Count | Should -BeGreaterThan 0
    }
}

Describe 'Find-MemoryLeak errors' {
    It 'reports a PID that does not exist with the full error id' {
        { Find-MemoryLeak -Id 2147483000 -Duration 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'NoProcessFoundForGivenId,LeakTools.Commands.FindMemoryLeakCommand'
    }

    It 'rejects a -Duration that is no duration' {
        { Find-MemoryLeak -Id $PID -Duration 'soon' } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,LeakTools.Commands.FindMemoryLeakCommand'
    }

    It 'reports a name that matches nothing' {
        $null = Find-MemoryLeak -Name 'no-such-process-leaktools' -Duration 1 -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].FullyQualifiedErrorId | Should -Be 'NoProcessFoundForGivenName,LeakTools.Commands.FindMemoryLeakCommand'
        $err[0].TargetObject | Should -Be 'no-such-process-leaktools'
    }

    It 'reports a -Library that does not exist' {
        $process = Start-Fixture 'leak_sites_fp'
        try {
            $leaks = Find-MemoryLeak -Id $process.Id -Library /nonexistent/libleaktools-none.so -Duration 1 -ErrorAction SilentlyContinue -ErrorVariable err
            $leaks | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'TracerLibraryNotFound,LeakTools.Commands.FindMemoryLeakCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject | Should -Be '/nonexistent/libleaktools-none.so'
            $err[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        }
        finally { Stop-Fixture $process }
    }

    It 'reports what it gathered and warns when the target exits mid-trace' {
        # It lives 2 s; attaching takes well under that even on a loaded machine, the trace would take 8.
        $process = Start-Fixture 'leak_sites_fp' -ArgumentList '2'
        $leaks = @(Find-MemoryLeak -Id $process.Id -Duration 8 -OlderThan 0 -WarningVariable warnings)
        $process.WaitForExit(5000) | Should -BeTrue
        "$warnings" | Should -Match "process $($process.Id) .*exited"
        # Named through the files read while it lived.
        $leak = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' })
        $leak.Count | Should -Be 1
        $leak[0].Count | Should -BeGreaterThan 10
        $leak[0].TraceDuration.TotalSeconds | Should -BeLessThan 7 -Because 'the trace ends when its only target exits'
    }
}

Describe 'Find-MemoryLeak stopped with Ctrl+C' {
    It 'detaches and still hands over what it gathered' {
        $process = Start-Fixture 'leak_sites_fp'
        try {
            $script:attached = $null
            $result = Invoke-StoppedTrace -Command Find-MemoryLeak -Parameters @{ Id = $process.Id; Duration = 60; OlderThan = 0 } -Target $process -Ready {
                # Let it gather for half a second once malloc is probed (programs load well before their probes
                # attach, and on a loaded machine that gap can outlast the half second).
                if (-not $script:attached -and (Test-LibcFunctionProbed $process.Id 'malloc')) { $script:attached = [DateTime]::UtcNow }
                if (-not $script:attached) { return $false }
                ([DateTime]::UtcNow - $script:attached).TotalSeconds -ge 0.5
            }
            $partial = @($result.Information | Where-Object { $_.Tags -contains 'LeakTools.PartialReport' })
            $partial.Count | Should -Be 1
            @($partial[0].MessageData | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' }).Count | Should -Be 1
            @($result.Information | Where-Object { $_.Tags -contains 'PSHOST' }).MessageData.Message | Should -Match 'leak_malloc\+0x'
        }
        finally { Stop-Fixture $process }
    }
}

Describe 'Find-MemoryLeak and Watch-Allocation under Select-Object -First' {
    BeforeAll { . "$PSScriptRoot/ChildPwsh.TestHelpers.ps1" }

    It 'end quietly, and the script goes on to its own exit code' {
        # A downstream stop is not Ctrl+C: no "stopped" report, the assignment happens, the next lines run.
        $process = Start-Fixture 'leak_sites_fp'
        $child = Start-ChildPwsh -Script (@(
            "`$t = Find-MemoryLeak -Id $($process.Id) -Duration 2 -OlderThan 0 | Select-Object -First 1"
            '"find: $($t.GetType().Name)"'
            "`$w = Watch-Allocation -Id $($process.Id) | Select-Object -First 5"
            '"watch: $($w.Count) $($w[0].GetType().Name)"'
            'exit 3') -join "`n")
        try {
            $child.Process.WaitForExit(60000) | Should -BeTrue
            $output = Get-ChildOutput $child
            $child.Process.ExitCode | Should -Be 3 -Because $output
            $output | Should -Match 'find: MemoryLeak'
            $output | Should -Match 'watch: 5 AllocationEvent'
            $output | Should -Not -Match 'was stopped'
            $process.HasExited | Should -BeFalse -Because 'the target runs on'
        }
        finally {
            Remove-ChildPwsh $child
            Stop-Fixture $process
        }
    }
}

Describe 'Find-MemoryLeak parameter edges' {
    It 'rejects -<Name> 0 at binding' -ForEach @(
        @{ Name = 'Duration'; Cmdlet = 'Find-MemoryLeak' }
        @{ Name = 'Interval'; Cmdlet = 'Find-MemoryLeak' }
        @{ Name = 'Duration'; Cmdlet = 'Watch-Allocation' }
    ) {
        $parameters = @{ Id = $PID; $Name = 0 }
        $type = $Cmdlet -eq 'Find-MemoryLeak' ? 'FindMemoryLeakCommand' : 'WatchAllocationCommand'
        { & $Cmdlet @parameters } | Should -Throw -ErrorId "ParameterArgumentValidationError,LeakTools.Commands.$type"
    }

    # Nothing to trace is a binding error (the default parameter set makes -Id mandatory; -Name takes no empty
    # value), never a trace of nothing; the run is -NonInteractive, so nothing prompts.
    It '<Cmdlet> without a target fails at binding: <Case>' -ForEach @(
        @{ Cmdlet = 'Find-MemoryLeak'; Case = 'no target'; Arguments = @{ Duration = 1 }; Id = 'MissingMandatoryParameter'; Category = 'InvalidArgument' }
        @{ Cmdlet = 'Watch-Allocation'; Case = 'no target'; Arguments = @{ Duration = 1 }; Id = 'MissingMandatoryParameter'; Category = 'InvalidArgument' }
        @{ Cmdlet = 'Find-MemoryLeak'; Case = 'only -Library'; Arguments = @{ Library = 'libc.so.6' }; Id = 'MissingMandatoryParameter'; Category = 'InvalidArgument' }
        @{ Cmdlet = 'Find-MemoryLeak'; Case = 'empty -Name'; Arguments = @{ Name = '' }; Id = 'ParameterArgumentValidationError'; Category = 'InvalidData' }
        @{ Cmdlet = 'Watch-Allocation'; Case = 'empty -Name'; Arguments = @{ Name = '' }; Id = 'ParameterArgumentValidationError'; Category = 'InvalidData' }
    ) {
        $type = $Cmdlet -eq 'Find-MemoryLeak' ? 'FindMemoryLeakCommand' : 'WatchAllocationCommand'
        $err = { & $Cmdlet @Arguments } | Should -Throw -ErrorId "$Id,LeakTools.Commands.$type" -PassThru
        $err.CategoryInfo.Category | Should -Be $Category
    }

    It 'rejects a -Count that would report faster than every 0.1 s over -Duration' {
        $err = { Find-MemoryLeak -Id $PID -Count 2147483647 -Duration 1 } | Should -Throw -ErrorId 'ReportCountTooHigh,LeakTools.Commands.FindMemoryLeakCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.TargetObject | Should -Be 2147483647
        $err.ErrorDetails.RecommendedAction | Should -Match '-Count 10 or less'
    }

    It 'checks -MinSize > -MaxSize once, before any target, for <_>' -ForEach 'Find-MemoryLeak', 'Watch-Allocation' {
        $type = $_ -eq 'Find-MemoryLeak' ? 'FindMemoryLeakCommand' : 'WatchAllocationCommand'
        $err = { & $_ -Id $PID, 1 -MinSize 4096 -MaxSize 16 -Duration 1 } | Should -Throw -ErrorId "MinSizeAboveMaxSize,LeakTools.Commands.$type" -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.TargetObject | Should -Be 4096
        $err.ErrorDetails.RecommendedAction | Should -Match '-MinSize.*-MaxSize'
    }
}

Describe 'After every Find-MemoryLeak' {
    It 'leaves no BPF program or link of ours behind' {
        Get-OurBpfProgram | Should -BeNullOrEmpty
        Get-OurBpfLink | Should -BeNullOrEmpty
    }
}
