# -Command of Find-MemoryLeak and Watch-Allocation: which programs start (as a shell would judge them), what a
# short-lived program leaks, and that a command we started dies with the trace unless -LeaveRunning.
# early_alloc (tests/fixtures) mallocs 33333 bytes three times in main, keeps them, and sleeps [seconds].

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
    . "$PSScriptRoot/ChildPwsh.TestHelpers.ps1"

    $script:EarlyAlloc = Join-Path $FixtureDir 'early_alloc_fp'

    # Dead: gone, or a zombie waiting for whichever process it was reparented to.
    function Test-ProcessDead([int] $ProcessId) { (Get-ProcessState $ProcessId) -in @('', 'Z') }

    # The early_alloc process started with $Tag as its argument once it runs (exec'd, no longer the paused launcher).
    function Find-EarlyAlloc([string] $Tag) {
        foreach ($entry in Get-ChildItem -LiteralPath /proc -Directory -ErrorAction Ignore) {
            if ($entry.Name -notmatch '^\d+$') { continue }
            $cmdline = Get-Content -LiteralPath "$($entry.FullName)/cmdline" -Raw -ErrorAction Ignore
            if (-not $cmdline -or -not $cmdline.Contains("early_alloc_fp`0$Tag`0")) { continue }
            $exe = try { (Get-Item -LiteralPath "$($entry.FullName)/exe" -ErrorAction Stop).LinkTarget } catch { $null }
            if ($exe -eq $EarlyAlloc) { return [int]$entry.Name }
        }
    }

    # Starts a fresh PowerShell (the pwsh process itself, so that a signal reaches it) that traces early_alloc for
    # 30 s with $Switches, and returns it with the pid of early_alloc once that runs.
    function Start-TracingPwsh([string] $Switches) {
        $tag = '40.{0}' -f (Get-Random -Minimum 10000 -Maximum 99999)   # seconds to live, and unique on the machine
        $child = Start-ChildPwsh "`$null = Find-MemoryLeak -Command '$EarlyAlloc', '$tag' -Duration 30 $Switches"
        $process = $child.Process
        $found = Wait-Until { ($script:fixture = Find-EarlyAlloc $tag) -or $process.HasExited } 60
        $found | Should -BeTrue
        $process.HasExited | Should -BeFalse -Because 'the tracing PowerShell still runs'
        [pscustomobject]@{ Pwsh = $process; FixtureId = $script:fixture; Child = $child }
    }
}

Describe 'Find-MemoryLeak -Command reports what a short-lived command never freed' {
    It 'reports all of it with the default -OlderThan, once the command has exited' {
        # early_alloc 0 exits at once: every allocation it makes is younger than the default -OlderThan 0.5 s.
        $leaks = @(Find-MemoryLeak -Command $EarlyAlloc, '0')
        # By size: a process this short-lived may be gone before its symbols are read, and only the count matters here.
        $leak = @($leaks | Where-Object { $_.Bytes / $_.Count -eq 33333 })
        $leak.Count | Should -Be 1
        $leak[0].Count | Should -Be 3
        $leak[0].Bytes | Should -Be (3 * 33333)
    }
}

Describe '-Command checks the program as a shell would' {
    BeforeAll {
        $script:dir = Join-Path $TestDrive 'programs'
        New-Item -ItemType Directory -Path $dir | Out-Null
    }

    It 'rejects a file that is not executable' {
        $file = Join-Path $dir 'not-executable.sh'
        Set-Content -Path $file -Value 'exit 0'
        & chmod 644 $file
        $null = Find-MemoryLeak -Command $file -ErrorAction SilentlyContinue -ErrorVariable err
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'TraceCommandNotExecutable,LeakTools.Commands.FindMemoryLeakCommand'
        $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $err[0].TargetObject | Should -Be $file
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'chmod \+x'
    }

    It 'rejects a directory' {
        { Watch-Allocation -Command $dir -ErrorAction Stop } |
            Should -Throw -ErrorId 'TraceCommandNotExecutable,LeakTools.Commands.WatchAllocationCommand'
        $null = Watch-Allocation -Command $dir -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -Be $dir
    }

    It 'rejects a script whose #! interpreter does not exist, naming the interpreter' {
        $script = Join-Path $dir 'missing-interpreter.sh'
        Set-Content -Path $script -Value "#!/nonexistent/leaktools-shell -e`nexit 0"
        & chmod 755 $script
        $null = Find-MemoryLeak -Command $script -ErrorAction SilentlyContinue -ErrorVariable err
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'TraceCommandNotExecutable,LeakTools.Commands.FindMemoryLeakCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $script
        $err[0].Exception.Message | Should -Match '/nonexistent/leaktools-shell'
    }

    It 'turns an exec that fails in the launcher into the same error, not a warning about its exit code' {
        # A relative #! interpreter is resolved by exec against the working directory: only the exec finds out.
        $script = Join-Path $dir 'relative-interpreter.sh'
        Set-Content -Path $script -Value "#!nonexistent/leaktools-shell`nexit 0"
        & chmod 755 $script
        $null = Find-MemoryLeak -Command $script -ErrorAction SilentlyContinue -ErrorVariable err -WarningVariable warnings
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'TraceCommandNotExecutable,LeakTools.Commands.FindMemoryLeakCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $script
        $warnings | Should -BeNullOrEmpty
    }

    It 'takes the first executable match on PATH, not the first file of that name' {
        $name = "leaktools-early-alloc-$PID"
        $first = New-Item -ItemType Directory -Path (Join-Path $dir 'path1') -Force
        $second = New-Item -ItemType Directory -Path (Join-Path $dir 'path2') -Force
        Set-Content -Path (Join-Path $first $name) -Value 'not a program'
        & chmod 644 (Join-Path $first $name)
        $savedPath = $env:PATH
        try {
            # Only the non-executable file: bash says "Permission denied", and so do we, naming it.
            $env:PATH = "$($first.FullName):$savedPath"
            $null = Find-MemoryLeak -Command $name -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].FullyQualifiedErrorId | Should -Be 'TraceCommandNotExecutable,LeakTools.Commands.FindMemoryLeakCommand'
            $err[0].TargetObject | Should -Be (Join-Path $first $name)

            Copy-Item -Path $EarlyAlloc -Destination (Join-Path $second $name)
            $env:PATH = "$($first.FullName):$($second.FullName):$savedPath"
            $leaks = @(Find-MemoryLeak -Command $name, '0' -WarningVariable warnings)
            $warnings | Should -BeNullOrEmpty
            $leak = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'main' })
            $leak.Count | Should -Be 1
            $leak[0].Count | Should -Be 3
        }
        finally { $env:PATH = $savedPath }
    }

    It 'passes an empty argument on to the program, but still needs the program' {
        $out = Join-Path $dir 'arguments.txt'
        $null = Find-MemoryLeak -Command sh, '-c', 'printf "%s:[%s][%s]" "$#" "$1" "$2" > "$0"', $out, '', 'last'
        Get-Content -Path $out -Raw | Should -Be '2:[][last]'
        { Find-MemoryLeak -Command '', 'x' } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,LeakTools.Commands.FindMemoryLeakCommand'
    }
}

Describe 'A command started for tracing ends with the trace' {
    It 'is killed when the PowerShell that traces it is SIGKILLed' {
        $run = Start-TracingPwsh
        try {
            $run.Pwsh.Kill()   # SIGKILL: nothing of PowerShell runs any more
            Wait-Until { Test-ProcessDead $run.FixtureId } 3 | Should -BeTrue -Because 'the command dies with its tracer'
        }
        finally {
            Remove-ChildPwsh $run.Child
            Stop-Process -Id $run.FixtureId -ErrorAction Ignore
        }
    }

    It 'keeps running after a SIGKILL of the tracer with -LeaveRunning, not stopped' {
        $run = Start-TracingPwsh '-LeaveRunning'
        try {
            $run.Pwsh.Kill()
            Wait-Until { $run.Pwsh.HasExited } 5 | Should -BeTrue
            Start-Sleep -Seconds 1
            Get-ProcessState $run.FixtureId | Should -BeIn @('S', 'R')
        }
        finally {
            Remove-ChildPwsh $run.Child
            Stop-Process -Id $run.FixtureId -ErrorAction Ignore
        }
    }

    It 'keeps running after -Duration ends with -LeaveRunning' {
        $events = @(Watch-Allocation -Command $EarlyAlloc, '30' -Duration 1 -LeaveRunning)
        $fixtureId = @($events | Where-Object Size -eq 33333)[0].ProcessId
        try {
            Start-Sleep -Milliseconds 500
            Get-ProcessState $fixtureId | Should -BeIn @('S', 'R')
        }
        finally { Stop-Process -Id $fixtureId -ErrorAction Ignore }
    }
}
