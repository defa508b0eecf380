# The fault suite, signal half: SIGKILL, SIGTERM and Ctrl+C of a real pwsh in the middle of Find-MemoryLeak,
# Watch-Allocation, -Kernel and -Command. Whatever ends the tool, no BPF object of the trace may remain (ours are
# known by the process that held them, so other tracers on the machine do not matter) and the target is never
# left stopped; SIGTERM and Ctrl+C still hand over what was gathered.

# The Find-MemoryLeak traces that a stop ends with a partial report, and a stack line each report must hold: the
# fixture's leak sites under its PID, or a kernel function under PID 0 (kernel allocations never stop).
$StoppedReports = @(
    @{ Name = 'FindId'; Stack = '\[\d+\] leak_\w+\+0x' }
    @{ Name = 'Kernel'; Stack = '\[0\] \S+\+0x' }
    @{ Name = 'Command'; Stack = '\[\d+\] leak_\w+\+0x' }
)

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
    . "$PSScriptRoot/ChildPwsh.TestHelpers.ps1"

    # The traces, each long enough that only the signal ends it.
    $script:Traces = [ordered]@{
        FindId  = 'Find-MemoryLeak -Id {0} -Duration 300 -OlderThan 0 -Top 3; "after the trace"'
        # The consumer's end block runs only when Watch-Allocation ends in order, not when the process just dies.
        WatchId = 'Watch-Allocation -Id {0} -Duration 300 | ForEach-Object -Begin {{ $n = 0 }} -Process {{ if (++$n % 500 -eq 0) {{ "events: $n" }} }} -End {{ "streamed: $n" }}; "after the trace"'
        Kernel  = 'Find-MemoryLeak -Kernel -Duration 300 -OlderThan 0 -Top 3; "after the trace"'
        Command = 'Find-MemoryLeak -Command ''{1}'', 300 -Duration 300 -OlderThan 0 -Top 3; "after the trace"'
    }

    # Starts every trace in its own pwsh (in parallel: each takes seconds to start), waits until each holds its
    # BPF objects and has gathered for a moment, records those objects and the -Command process, sends the
    # signal, and waits for each pwsh to end. -Signal is KILL, TERM or INT (^C on the pwsh's terminal).
    function Invoke-SignalledTraces([string] $Signal) {
        $fixture = Join-Path $FixtureDir 'leak_sites_fp'
        $target = Start-Fixture 'leak_sites_fp' -ArgumentList '300'
        $runs = foreach ($name in $Traces.Keys) {
            $child = Start-ChildPwsh -Script ($Traces[$name] -f $target.Id, $fixture) -Terminal:($Signal -eq 'INT')
            [pscustomobject]@{ Name = $name; Child = $child; Held = @(); Launched = $null; ExitCode = $null; Output = '' }
        }
        foreach ($run in $runs) {
            $attached = Wait-Until { @(Get-BpfObjectHeldBy $run.Child.Pwsh | Where-Object { $_ -like 'link:*' }).Count -gt 0 } 120
            $attached | Should -BeTrue -Because "$($run.Name) attaches: $(Get-ChildOutput $run.Child)"
        }
        Start-Sleep -Milliseconds 700   # let every trace gather something
        foreach ($run in $runs) {
            $run.Held = @(Get-BpfObjectHeldBy $run.Child.Pwsh)
            if ($run.Name -eq 'Command') {
                # The launcher execs the command only once every probe is in (seconds on a loaded machine): wait for it.
                $null = Wait-Until {
                    $children = @(Get-Content "/proc/$($run.Child.Pwsh)/task/*/children" -ErrorAction Ignore) -split ' ' | Where-Object { $_ }
                    $run.Launched = @($children | Where-Object { (Get-Content "/proc/$_/comm" -ErrorAction Ignore) -eq 'leak_sites_fp' })[0]
                    $null -ne $run.Launched
                } 60
            }
            switch ($Signal) {
                'INT' { $run.Child.Process.StandardInput.Write([char]3); $run.Child.Process.StandardInput.Flush() }
                default { & kill -s $Signal $run.Child.Pwsh }
            }
        }
        foreach ($run in $runs) {
            $run.Child.Process.WaitForExit(60000) | Should -BeTrue -Because "$($run.Name) ends after SIG$Signal"
            $run.ExitCode = $run.Child.Process.ExitCode
            $run.Output = Get-ChildOutput $run.Child
        }
        [pscustomobject]@{ Target = $target; Runs = $runs }
    }

    function Assert-NothingLeftBehind($Result) {
        foreach ($run in $Result.Runs) {
            $run.Held.Count | Should -BeGreaterThan 2 -Because "$($run.Name) held programs, links and maps"
            Wait-Until { @(Get-LiveBpfObject $run.Held).Count -eq 0 } 10 | Should -BeTrue -Because "the kernel freed every BPF object of $($run.Name)"
        }
        Get-ProcessState $Result.Target.Id | Should -BeIn 'R', 'S', 'D' -Because 'the traced process runs on'
        $command = $Result.Runs | Where-Object Name -eq 'Command'
        $command.Launched | Should -Not -BeNullOrEmpty
        # T is stopped, t stopped by a tracer (-Be compares without case).
        Get-ProcessState $command.Launched | Should -Not -Be 'T' -Because 'a launched command is never left stopped'
    }

    function Stop-SignalledTraces($Result) {
        if (-not $Result) { return }
        Stop-Fixture $Result.Target
        foreach ($run in $Result.Runs) {
            if ($run.Launched) { Stop-Process -Id $run.Launched -ErrorAction Ignore }
            Remove-ChildPwsh $run.Child
        }
    }
}

Describe 'SIGKILL of a tracing pwsh' {
    BeforeAll { $script:result = Invoke-SignalledTraces KILL }
    AfterAll { Stop-SignalledTraces $result }

    It 'ends it at once' {
        foreach ($run in $result.Runs) { $run.ExitCode | Should -Be 137 -Because $run.Name }
    }

    It 'leaves no BPF object of the trace and no target stopped' {
        Assert-NothingLeftBehind $result
    }
}

Describe 'SIGTERM of a tracing pwsh' {
    BeforeAll { $script:result = Invoke-SignalledTraces TERM }
    AfterAll { Stop-SignalledTraces $result }

    It 'stops <Name> like Ctrl+C, reports what it gathered, and ends the process with 143' -ForEach $StoppedReports {
        $run = $result.Runs | Where-Object Name -eq $Name
        $run.ExitCode | Should -Be 143 -Because $run.Output
        $run.Output | Should -Match 'Find-MemoryLeak was stopped; \d+ leaking stack\(s\) gathered so far'
        $run.Output | Should -Not -Match 'after the trace' -Because 'a process sent SIGTERM ends; the script does not go on'
        $run.Output | Should -Match $Stack
    }

    It 'stops Watch-Allocation in order after the events it streamed, and ends the process with 143' {
        $run = $result.Runs | Where-Object Name -eq 'WatchId'
        $run.ExitCode | Should -Be 143 -Because $run.Output
        $run.Output | Should -Match 'events: \d+'
        $run.Output | Should -Match 'streamed: [1-9]\d*' -Because 'the pipeline ends normally, so the consumer sees the end of the stream'
        $run.Output | Should -Not -Match 'after the trace'
    }

    It 'leaves no BPF object of the trace and no target stopped' {
        Assert-NothingLeftBehind $result
    }
}

Describe 'Ctrl+C on the terminal of a tracing pwsh' {
    BeforeAll { $script:result = Invoke-SignalledTraces INT }
    AfterAll { Stop-SignalledTraces $result }

    It 'stops <Name> and reports what it gathered' -ForEach $StoppedReports {
        $run = $result.Runs | Where-Object Name -eq $Name
        $run.Output | Should -Match 'Find-MemoryLeak was stopped; \d+ leaking stack\(s\) gathered so far'
        $run.Output | Should -Match $Stack
    }

    It 'stops Watch-Allocation after the events it streamed' {
        $run = $result.Runs | Where-Object Name -eq 'WatchId'
        $run.Output | Should -Match 'events: \d+'
    }

    It 'leaves no BPF object of the trace and no target stopped' {
        Assert-NothingLeftBehind $result
    }
}

Describe 'SIGTERM when no LeakTools cmdlet runs' {
    It 'keeps PowerShell''s default: the process ends with 143 at once' {
        $target = Start-Fixture 'leak_sites_fp' -ArgumentList '30'
        $child = Start-ChildPwsh -Script "Find-MemoryLeak -Id $($target.Id) -Duration 0.5 | Out-Null; 'traced'; Start-Sleep -Seconds 30; 'slept'"
        try {
            Wait-Until { (Get-ChildOutput $child) -match 'traced' } 60 | Should -BeTrue -Because (Get-ChildOutput $child)
            & kill -s TERM $child.Pwsh
            $child.Process.WaitForExit(10000) | Should -BeTrue -Because 'nothing of LeakTools holds SIGTERM any more'
            $child.Process.ExitCode | Should -Be 143
            Get-ChildOutput $child | Should -Not -Match 'slept'
        }
        finally {
            Remove-ChildPwsh $child
            Stop-Fixture $target
        }
    }
}
