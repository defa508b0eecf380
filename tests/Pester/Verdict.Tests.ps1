# Find-MemoryLeak -Verdict on real processes: the fixture tests/fixtures/verdict_shapes.c builds memory in known
# pointer shapes, each block allocated by its own function (the direct caller names the shape), and the verdicts
# must be valgrind memcheck's. Then eight threads churning through 100 pauses, none of their blocks lost; and the
# pause itself: threads started during it, a huge reservation, signals sent during it, a target under gdb, and the
# tool killed, terminated or stopped with Ctrl+C in the middle of a pause.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
    . "$PSScriptRoot/ChildPwsh.TestHelpers.ps1"
    $script:Shapes = Join-Path $FixtureDir 'verdict_shapes_fp'

    # The verdict groups of one direct caller.
    function Get-Group($Leaks, [string] $Site) { @($Leaks | Where-Object { (Get-DirectCaller $_) -eq $Site }) }

    # The state letter of every thread of a process.
    function Get-ThreadState([int] $ProcessId) {
        foreach ($stat in Get-ChildItem -LiteralPath "/proc/$ProcessId/task" -ErrorAction Ignore) {
            $text = Get-Content -LiteralPath "$($stat.FullName)/stat" -Raw -ErrorAction Ignore
            if ($text -match '\) (\w) ') { $Matches[1] }
        }
    }

    # The verdict_shapes process a pwsh started with -Command (through the launcher, which execs it).
    function Get-LaunchedShapes([int] $Pwsh) {
        $children = @(Get-Content "/proc/$Pwsh/task/*/children" -ErrorAction Ignore) -split ' ' | Where-Object { $_ }
        @($children | Where-Object { (Get-Content "/proc/$_/comm" -ErrorAction Ignore) -like 'verdict_shapes*' })[0]
    }

    # User plus system CPU ticks of a process (fields 14 and 15 of /proc/PID/stat).
    function Get-CpuTicks([int] $ProcessId) {
        $fields = ((Get-Content -LiteralPath "/proc/$ProcessId/stat" -Raw) -split '\) ')[1] -split ' '
        [long]$fields[11] + [long]$fields[12]
    }
}

Describe 'Find-MemoryLeak -Verdict on known pointer shapes' {
    BeforeAll {
        # Two reports one second apart: the second is confirmed by the first.
        $all = @(Find-MemoryLeak -Command $Shapes, 'shapes', '60' -Duration 2 -Interval 1 -OlderThan 0.5 -Verdict -IncludeAddresses -Verbose 4>&1)
        $script:verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $reports = @($all | Where-Object { $_ -is [LeakTools.Model.MemoryLeak] } | Group-Object Timestamp | Sort-Object Name)
        $script:reportCount = $reports.Count
        $script:first = @($reports[0].Group)
        $script:leaks = @($reports[-1].Group)
    }

    It 'reports twice, and says how long the target was paused' {
        $reportCount | Should -Be 2
        @($verbose -match 'paused \d+ thread\(s\) for \d+ ms').Count | Should -Be 2
    }

    It 'gives <Site> the verdict <Verdict> (valgrind leak-cases and more)' -ForEach @(
        @{ Site = 'p1_a'; Verdict = 'Reachable' }        # root --> A
        @{ Site = 'p2_a'; Verdict = 'Reachable' }        # root --> A --> B
        @{ Site = 'p2_b'; Verdict = 'Reachable' }
        @{ Site = 'p3_a'; Verdict = 'DefinitelyLost' }   # A alone
        @{ Site = 'p4_a'; Verdict = 'DefinitelyLost' }   # A --> B, A unreferenced
        @{ Site = 'p4_b'; Verdict = 'IndirectlyLost' }
        @{ Site = 'p5_a'; Verdict = 'PossiblyLost' }     # root -?-> A
        @{ Site = 'p6_a'; Verdict = 'Reachable' }        # root --> A -?-> B
        @{ Site = 'p6_b'; Verdict = 'PossiblyLost' }
        @{ Site = 'p7_a'; Verdict = 'PossiblyLost' }     # root -?-> A --> B
        @{ Site = 'p7_b'; Verdict = 'PossiblyLost' }
        @{ Site = 'p8_a'; Verdict = 'PossiblyLost' }     # root -?-> A -?-> B
        @{ Site = 'p8_b'; Verdict = 'PossiblyLost' }
        @{ Site = 'p9_a'; Verdict = 'DefinitelyLost' }   # A -?-> B, A unreferenced
        @{ Site = 'p9_b'; Verdict = 'IndirectlyLost' }
        @{ Site = 'cache_table'; Verdict = 'Reachable' } # a global cache and its items
        @{ Site = 'cache_item'; Verdict = 'Reachable' }
        @{ Site = 'register_only'; Verdict = 'Reachable' }
        @{ Site = 'stack_only'; Verdict = 'Reachable' }
        @{ Site = 'tls_only'; Verdict = 'Reachable' }
        @{ Site = 'bin_leaked'; Verdict = 'DefinitelyLost' }   # main_arena's bin points into it: still not "possibly"
        @{ Site = 'freed_member'; Verdict = 'DefinitelyLost' } # its struct was freed without it
    ) {
        $group = Get-Group $leaks $Site
        $group.Count | Should -BeGreaterThan 0
        $group.Verdict | Select-Object -Unique | Should -Be $Verdict -Because "$Site's blocks all have one verdict"
        $group[0].Verdict | Should -BeOfType [LeakTools.Model.LeakVerdict]
    }

    It 'counts what a definitely lost block makes indirectly lost as its indirect bytes' {
        (Get-Group $leaks 'p4_a')[0].IndirectBytes | Should -Be 204
        (Get-Group $leaks 'p9_a')[0].IndirectBytes | Should -Be 209
        (Get-Group $leaks 'p3_a')[0].IndirectBytes | Should -Be 0
        (Get-Group $leaks 'p3_a')[0].DirectBytes | Should -Be 103
    }

    It 'makes a lost cycle one DefinitelyLost block and the rest IndirectlyLost' {
        $cycle = @('cycle_a', 'cycle_b', 'cycle_c' | ForEach-Object { Get-Group $leaks $_ })
        $cycle.Count | Should -Be 3
        $definite = @($cycle | Where-Object Verdict -eq 'DefinitelyLost')
        $definite.Count | Should -Be 1
        @($cycle | Where-Object Verdict -eq 'IndirectlyLost').Count | Should -Be 2
        $definite[0].IndirectBytes | Should -Be ((300 + 301 + 302) - $definite[0].Bytes)
    }

    It 'makes a lost tree its root DefinitelyLost and its six nodes IndirectlyLost' {
        $root = Get-Group $leaks 'tree_root'
        $root.Verdict | Should -Be 'DefinitelyLost'
        $root.IndirectBytes | Should -Be (6 * 401)
        $nodes = Get-Group $leaks 'tree_node'
        ($nodes.Verdict | Select-Object -Unique) | Should -Be 'IndirectlyLost'
        ($nodes | Measure-Object Count -Sum).Sum | Should -Be 6
    }

    It 'shows, with -IncludeAddresses, one referrer and its offset for a possibly lost block' {
        $p5 = Get-Group $leaks 'p5_a'
        @($p5.Addresses).Count | Should -Be 1
        @($p5.Referrers).Count | Should -Be 1
        $p5.Referrers[0] | Should -Match '^0x[0-9a-f]+ -> \+0x8$'
        (Get-Group $leaks 'p3_a').Referrers | Should -BeNullOrEmpty
    }

    It 'confirms in the second report what the first found lost, and only that' {
        (Get-Group $leaks 'p3_a').Confirmed | Should -BeTrue
        (Get-Group $leaks 'tree_node').Confirmed | Should -Not -Contain $false
        (Get-Group $leaks 'p1_a').Confirmed | Should -BeFalse
        (Get-Group $first 'p3_a').Confirmed | Should -BeFalse -Because 'the first scan has nothing to agree with'
    }

    It 'skips the untouched part of a 64 GiB reservation, so the pause stays short' {
        $pause = $verbose -match 'paused' | Select-Object -Last 1
        $pause -match 'for (\d+) ms, copied ([\d.]+) MiB' | Should -BeTrue -Because $pause
        [double]$Matches[2] | Should -BeLessThan 64
        [int]$Matches[1] | Should -BeLessThan 500
        @($leaks | Where-Object Verdict -eq 'Inconclusive') | Should -BeNullOrEmpty
    }

    It 'shows the verdict in the default view and sorts DefinitelyLost first' {
        $text = $leaks | Format-Table | Out-String -Width 200
        $text | Should -Match 'Verdict'
        $text | Should -Match 'DefinitelyLost\*? +\d+'
        ($leaks | Sort-Object Verdict)[0].Verdict | Should -Be 'DefinitelyLost'
        ($leaks | Sort-Object Verdict)[-1].Verdict | Should -Be 'Reachable'
    }
}

Describe 'Find-MemoryLeak -Verdict on a target that allocates, reallocates and frees all the time' {
    BeforeAll {
        # Eight threads in a malloc/realloc/free loop, paused 100 times. -OlderThan 0: every block outstanding
        # across a pass is judged, including those an allocator call was working on when the pause came.
        $target = Start-Fixture 'verdict_shapes_fp' -ArgumentList 'churn', '600'
        try {
            $all = @(Find-MemoryLeak -Id $target.Id -Duration 600 -Interval 0.1 -Count 100 -OlderThan 0 -Verdict -PauseLimit 10 -Verbose 4>&1 3>&1)
        }
        finally { Stop-Fixture $target }
        $script:churnPauses = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'paused 9 thread\(s\)' })
        $script:churnWarnings = @($all | Where-Object { $_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object Message)
        $script:churnLeaks = @($all | Where-Object { $_ -is [LeakTools.Model.MemoryLeak] })
    }

    It 'pauses all nine threads 100 times, and every pass is conclusive' {
        $churnPauses.Count | Should -Be 100
        @($churnLeaks | Group-Object Timestamp).Count | Should -Be 100
        $churnWarnings | Should -BeNullOrEmpty
        @($churnLeaks | Where-Object Verdict -eq 'Inconclusive') | Should -BeNullOrEmpty
    }

    It 'judges the blocks outstanding across a pass, and finds none of them lost' {
        ($churnLeaks | Where-Object Verdict -eq 'Reachable' | Measure-Object Count -Sum).Sum | Should -BeGreaterThan 1000
        $lost = @($churnLeaks | Where-Object { $_.Verdict -in 'DefinitelyLost', 'IndirectlyLost' })
        $lost | Should -BeNullOrEmpty -Because "no block of the loop is ever lost: $($lost | ForEach-Object { "$($_.Verdict) $($_.Count) at $(Get-DirectCaller $_)" })"
    }
}

Describe 'The pause of -Verdict' {
    It 'stops every thread of a target that starts threads in a loop' {
        $target = Start-Fixture 'verdict_shapes_fp' -ArgumentList 'spawner', '60'
        $child = Start-ChildPwsh -Script "`$env:LEAKTOOLS_VERDICT_HOLD_MS = '1500'; Find-MemoryLeak -Id $($target.Id) -Duration 1 -Verdict -PauseLimit 5 -Verbose"
        try {
            Wait-Until { (Get-ThreadState $target.Id) -contains 't' } 90 | Should -BeTrue -Because (Get-ChildOutput $child)
            Start-Sleep -Milliseconds 300
            $states = @(Get-ThreadState $target.Id)
            $states.Count | Should -BeGreaterThan 1
            $states | Where-Object { $_ -ne 't' } | Should -BeNullOrEmpty -Because 'no thread may run while the memory is copied'
            $child.Process.WaitForExit(60000) | Should -BeTrue
            Get-ChildOutput $child | Should -Match 'paused \d+ thread\(s\)'
            Wait-Until { (Get-ThreadState $target.Id) -notcontains 't' } 1 | Should -BeTrue
        }
        finally {
            Remove-ChildPwsh $child
            Stop-Fixture $target
        }
    }

    It 'refuses a target under gdb with a clear error, and leaves the verdicts Inconclusive' {
        $target = Start-Fixture 'verdict_shapes_fp' -ArgumentList 'shapes', '60'
        $gdb = Start-Process gdb -ArgumentList '-q', '-nx', '-batch', '-p', $target.Id, '-ex', 'continue' -PassThru `
            -RedirectStandardOutput "$TestDrive/gdb.out" -RedirectStandardError "$TestDrive/gdb.err"
        try {
            Wait-Until { (Get-Content "/proc/$($target.Id)/status") -match '^TracerPid:\s+[1-9]' -and (Get-ProcessState $target.Id) -ne 't' } 30 |
                Should -BeTrue -Because 'gdb attaches and lets the target run'
            $leaks = @(Find-MemoryLeak -Id $target.Id -Duration 1 -OlderThan 0 -Verdict -ErrorVariable failures -ErrorAction SilentlyContinue)
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'VerdictTargetTraced,LeakTools.Commands.FindMemoryLeakCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
            $failures[0].TargetObject | Should -Be $target.Id
            $failures[0].ErrorDetails.RecommendedAction + $failures[0].CategoryInfo.Reason | Should -Not -BeNullOrEmpty
            $failures[0].Exception.Message | Should -Match "traced by process $($gdb.Id)"
            @($leaks | Where-Object Verdict -ne 'Inconclusive') | Should -BeNullOrEmpty
        }
        finally {
            if (-not $gdb.HasExited) { $gdb.Kill() }
            Stop-Fixture $target
        }
    }

    It 'hands every signal sent to the target while it was paused back to it, once' {
        # A sender queues real-time signals (they are counted, not merged) all through the trace, so some reach
        # the target while it is stopped, and one at each pause while it is seized but not yet interrupted (the
        # helper waits 20 ms there): that one stops it for delivery, and the helper must hand it back.
        $output = "$TestDrive/signals.out"
        $target = Start-Fixture 'verdict_shapes_fp' -ArgumentList 'signals', '120' -StandardOutputPath $output
        $env:LEAKTOOLS_VERDICT_SEIZE_DELAY_MS = '20'
        try {
            $verbose = @(Find-MemoryLeak -Id $target.Id -Duration 3 -Interval 0.2 -Verdict -PauseLimit 10 -Verbose -ErrorVariable failures 4>&1 |
                    Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            $failures | Should -BeNullOrEmpty
            @($verbose -match 'paused 1 thread\(s\)').Count | Should -BeGreaterThan 1
            & kill -s USR1 $target.Id
            Wait-Until { (Get-Content -LiteralPath $output -Raw) -match 'sent \d+ received \d+' } 30 | Should -BeTrue
            (Get-Content -LiteralPath $output -Raw) -match 'sent (\d+) received (\d+)' | Should -BeTrue
            [long]$Matches[1] | Should -BeGreaterThan 1000
            [long]$Matches[2] | Should -Be ([long]$Matches[1])
        }
        finally {
            Remove-Item Env:LEAKTOOLS_VERDICT_SEIZE_DELAY_MS -ErrorAction Ignore
            Stop-Fixture $target
        }
    }

    It 'is refused with -Kernel' {
        { Find-MemoryLeak -Kernel -Duration 1 -Verdict } |
            Should -Throw -ErrorId 'VerdictNeedsProcess,LeakTools.Commands.FindMemoryLeakCommand'
    }
}

Describe 'Killing or terminating the tool in the middle of a pause' {
    BeforeAll {
        # One target and one tracing pwsh per signal, in parallel; each pause is held 4 s after the copy.
        # -Command, so the shapes are made under tracing; -LeaveRunning, so the target outlives even a killed tool.
        $script:runs = foreach ($signal in 'KILL', 'TERM') {
            $script = "`$env:LEAKTOOLS_VERDICT_HOLD_MS = '4000'; Find-MemoryLeak -Command '$Shapes', 'shapes', '120' -LeaveRunning -Duration 2 -OlderThan 0 -Verdict -PauseLimit 8; 'after the trace'"
            [pscustomobject]@{ Signal = $signal; Target = $null; Child = (Start-ChildPwsh -Script $script); States = @(); Ticks = 0; Signalled = $false; Output = '' }
        }
        # Each run is signalled as soon as its target is seen paused (the runs reach their pauses at different times).
        $deadline = [DateTime]::UtcNow.AddSeconds(300)
        while (@($runs | Where-Object Signalled -eq $false).Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) {
            foreach ($run in @($runs | Where-Object Signalled -eq $false)) {
                if (-not $run.Target) {
                    $launched = Get-LaunchedShapes $run.Child.Pwsh
                    if ($launched) { $run.Target = Get-Process -Id $launched }
                    continue
                }
                if ((Get-ThreadState $run.Target.Id) -notcontains 't') { continue }
                & kill -s $run.Signal $run.Child.Pwsh
                $run.Signalled = $true
                Start-Sleep -Milliseconds 100
                $run.States = @(Get-ThreadState $run.Target.Id)
                $run.Ticks = Get-CpuTicks $run.Target.Id
            }
            Start-Sleep -Milliseconds 20
        }
        foreach ($run in $runs) { $run.Signalled | Should -BeTrue -Because "the $($run.Signal) run pauses: $(Get-ChildOutput $run.Child)" }
        foreach ($run in $runs) {
            $run.Child.Process.WaitForExit(60000) | Out-Null
            $run.Output = Get-ChildOutput $run.Child
        }
    }
    AfterAll {
        foreach ($run in $runs) {
            Remove-ChildPwsh $run.Child
            if ($run.Target) { Stop-Fixture $run.Target }
        }
    }

    It 'leaves no thread of the target stopped 100 ms after SIG<_>, and the target runs on' -ForEach 'KILL', 'TERM' {
        $run = $runs | Where-Object Signal -eq $_
        $run.States.Count | Should -BeGreaterThan 1
        $run.States | Where-Object { $_ -in 't', 'T' } | Should -BeNullOrEmpty -Because "thread states: $($run.States -join ' ')"
        $run.Target.HasExited | Should -BeFalse
        Wait-Until { (Get-CpuTicks $run.Target.Id) -gt $run.Ticks } 5 | Should -BeTrue -Because 'its spinning thread still runs'
    }

    It 'hands over a partial report, Inconclusive, after SIG<_>' -ForEach 'TERM' {
        $run = $runs | Where-Object Signal -eq $_
        $run.Output | Should -Match 'Find-MemoryLeak was stopped; \d+ leaking stack\(s\) gathered so far'
        $run.Output | Should -Match 'Inconclusive +\S*p3_a\+0x'
    }
}

Describe 'Ctrl+C in the middle of a pause' {
    It 'lets every thread of the target go within 100 ms, which runs on, and hands over a partial report, Inconclusive' {
        # leak_sites leaks from a thread per site all the time; the pause is held 8 s after the copy, and the stop
        # (PowerShell.Stop, what Ctrl+C does) comes as soon as its threads are seen stopped.
        $target = Start-Fixture 'leak_sites_fp' -ArgumentList '120'
        $env:LEAKTOOLS_VERDICT_HOLD_MS = '8000'
        try {
            $script:states = @(); $script:ticks = 0
            $result = Invoke-StoppedTrace -Command Find-MemoryLeak -Parameters @{ Id = $target.Id; Duration = 1; OlderThan = 0; Verdict = $true; PauseLimit = 20 } -Target $target `
                -Ready { (Get-ThreadState $target.Id) -contains 't' } -ReadyTimeout 120 -WhileStopping {
                Start-Sleep -Milliseconds 100
                $script:states = @(Get-ThreadState $target.Id)
                $script:ticks = Get-CpuTicks $target.Id
            }
            $script:states.Count | Should -BeGreaterThan 1
            $script:states | Where-Object { $_ -in 't', 'T' } | Should -BeNullOrEmpty -Because "thread states: $($script:states -join ' ')"
            Wait-Until { (Get-CpuTicks $target.Id) -gt $script:ticks } 5 | Should -BeTrue -Because 'its threads run again'

            $text = @($result.Information | Where-Object { $_.Tags -contains 'PSHOST' }).MessageData.Message
            $text | Should -Match 'Find-MemoryLeak was stopped; [1-9]\d* leaking stack\(s\) gathered so far'
            $partial = @($result.Information | Where-Object { $_.Tags -contains 'LeakTools.PartialReport' })
            $partial.Count | Should -Be 1
            $leaks = @($partial[0].MessageData)
            $leaks.Count | Should -BeGreaterThan 0
            $leaks.Verdict | Select-Object -Unique | Should -Be 'Inconclusive' -Because 'the copy a stop cut short judges nothing'
        }
        finally {
            Remove-Item Env:LEAKTOOLS_VERDICT_HOLD_MS -ErrorAction Ignore
            Stop-Fixture $target
        }
    }
}
