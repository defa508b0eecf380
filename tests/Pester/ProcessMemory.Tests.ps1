BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/ProcfsTestHelpers.ps1"

    $sleeper, $odd = Start-SleepFixtures
    $missingPid = 2147483000
}

AfterAll {
    Stop-ProcfsTestProcess
}

Describe 'Get-ProcessMemory' {
    Context 'a quiescent process compared with ps' {
        BeforeAll {
            $info = Get-ProcessMemory -Id $sleeper.Id
            $ps = (& ps -o rss=,vsz=,nlwp=,pmem= -p $sleeper.Id).Trim() -split '\s+'
        }

        It 'returns one typed object' {
            $info | Should -BeOfType LeakTools.Model.ProcessMemoryInfo
            @($info).Count | Should -Be 1
        }

        It 'has the RSS ps shows' {
            $info.Rss / 1KB | Should -Be ([long]$ps[0])
        }

        It 'has the VSZ and thread count ps shows' {
            $info.Vsz / 1KB | Should -Be ([long]$ps[1])
            $info.Threads | Should -Be ([int]$ps[2])
        }

        It 'has the %MEM ps shows' {
            [math]::Abs($info.MemoryPercent - [double]$ps[3]) | Should -BeLessOrEqual 0.1
        }

        It 'splits Rss into anon, file and shmem parts' {
            $info.RssAnon + $info.RssFile + $info.RssShmem | Should -Be $info.Rss
            $info.RssFile | Should -BeGreaterThan 0
        }

        It 'has Uss <= Pss <= Rss from smaps_rollup' {
            $info.Pss | Should -BeGreaterThan 0
            $info.Uss | Should -BeGreaterThan 0
            $info.Uss | Should -BeLessOrEqual $info.Pss
            $info.Pss | Should -BeLessOrEqual $info.Rss
            # Pss of shared pages moves whenever another process maps them: compare fresh reads, closely.
            $ours = (Get-ProcessMemory -Id $sleeper.Id).Pss
            $rollupPss = [long]((Get-Content "/proc/$($sleeper.Id)/smaps_rollup" | Select-String '^Pss:\s+(\d+)').Matches[0].Groups[1].Value) * 1KB
            [math]::Abs($ours - $rollupPss) | Should -BeLessOrEqual (16KB + 0.05 * $rollupPss)
        }

        It 'has the name, command line and swap of the process' {
            $info.Id | Should -Be $sleeper.Id
            $info.Name | Should -Be 'sleep'
            $info.CommandLine | Should -Match '^\S*sleep 300$'
            $info.CommandLine | Should -Be ((Get-Content "/proc/$($sleeper.Id)/cmdline" -Raw).TrimEnd([char]0).Replace([char]0, ' '))
            $info.Swap | Should -Be 0
            $info.Growth | Should -BeNullOrEmpty
        }
    }

    It 'binds process objects piped from Get-Process' {
        $info = Get-Process -Id $sleeper.Id, $odd.Id | Get-ProcessMemory
        $info.Id | Sort-Object | Should -Be (@($sleeper.Id, $odd.Id) | Sort-Object)
    }

    It 'binds objects with an Id property by property name' {
        ([pscustomobject]@{ Id = $sleeper.Id } | Get-ProcessMemory).Id | Should -Be $sleeper.Id
    }

    It 'finds a process whose name has spaces and parentheses, by wildcard' {
        $info = Get-ProcessMemory -Name 'my (odd)*'
        $info.Id | Should -Be $odd.Id
        $info.Name | Should -Be 'my (odd) proc'
        $info.Rss / 1KB | Should -Be ([long](& ps -o rss= -p $odd.Id).Trim())
    }

    It 'lists every process by default, without kernel threads' {
        $all = Get-ProcessMemory -ErrorVariable err
        $err | Should -BeNullOrEmpty
        $all.Id | Should -Contain $sleeper.Id
        $all.Id | Should -Contain $PID
        $all.Id | Should -Not -Contain 2   # kthreadd
    }

    It 'reports a name that matches nothing as ObjectNotFound' {
        { Get-ProcessMemory -Name 'no such process here' -ErrorAction Stop } |
            Should -Throw -ErrorId 'NoProcessFoundForGivenName,LeakTools.Commands.GetProcessMemoryCommand'
    }

    It 'rejects -Interval <Interval> and -Count <Count> with parameter validation errors' -TestCases @(
        @{ Interval = 0; Count = 1 }, @{ Interval = -0.5; Count = 1 }, @{ Interval = 1; Count = 0 }
    ) {
        { Get-ProcessMemory -Id $sleeper.Id -Interval $Interval -Count $Count } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,LeakTools.Commands.GetProcessMemoryCommand'
    }

    Context 'sampling a growing process' {
        BeforeAll {
            $grower = Start-GrowingProcess
            $samples = @(Get-ProcessMemory -Id $grower.Id -Interval 0.5 -Count 3)
        }

        It 'returns -Count samples' {
            $samples.Count | Should -Be 3
            $samples.Sample | Should -Be @(1, 2, 3)
        }

        It 'has no growth on the first sample' {
            $samples[0].Growth | Should -BeNullOrEmpty
            $samples[0].BytesPerSecond | Should -BeNullOrEmpty
        }

        It 'shows positive growth and growth rate on later samples' {
            foreach ($sample in $samples[1..2]) {
                $sample.Growth | Should -BeGreaterThan 1MB
                $sample.BytesPerSecond | Should -BeGreaterThan 1MB
                $sample.Growth | Should -Be ($sample.Rss - $samples[$sample.Sample - 2].Rss)
            }
        }

        It 'shows the growth columns in the sampled view' {
            $header = (($samples | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() })[0]
            $header | Should -Match 'Growth\(K\)'
            $header | Should -Match 'KiB/s'
        }
    }

    It 'samples every process when none is named, with growth from the second round on' {
        $samples = @(Get-ProcessMemory -Interval 0.3 -Count 2 -WarningAction SilentlyContinue -ErrorVariable err)
        $err | Should -BeNullOrEmpty
        $mine = @($samples | Where-Object Id -eq $sleeper.Id)
        $mine.Sample | Should -Be @(1, 2)
        $mine[1].Growth | Should -Be ($mine[1].Rss - $mine[0].Rss)
        $mine[1].BytesPerSecond | Should -Not -BeNullOrEmpty
    }

    It 'reports a process that exits between samples once, without a stack trace' {
        $shortLived = Start-ProcfsTestProcess -FilePath sleep -ArgumentList @('2')
        $samples = @(Get-ProcessMemory -Id $shortLived.Id -Interval 0.5 -Count 20 -ErrorVariable err -ErrorAction SilentlyContinue)
        $samples.Count | Should -BeGreaterOrEqual 1
        $samples.Count | Should -BeLessThan 20
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'ProcessExited,LeakTools.Commands.GetProcessMemoryCommand'
        $err[0].TargetObject | Should -Be $shortLived.Id
    }

    It 'shows a top-like table in MiB by default' {
        $info = Get-ProcessMemory -Id $sleeper.Id
        $lines = ($info | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() }
        $lines[0] | Should -Match 'Id\s+Name\s+Rss\(M\)'
        $lines[2] | Should -Match ([regex]::Escape(('{0:N1}' -f ($info.Rss / 1MB))))
    }

    Context 'without root' {
        BeforeAll {
            $foreign = Start-ForeignProcess
            $result = Invoke-Unprivileged @"
`$own = Start-Process sleep 30 -PassThru
`$out = Get-ProcessMemory -Id `$own.Id, $($foreign.Id) -ErrorVariable err -WarningVariable warn 3>`$null
`$all = Get-ProcessMemory -ErrorVariable allErr -WarningVariable allWarn 3>`$null
`$own.Kill()
[pscustomobject]@{
    Own = `$out | Where-Object Id -eq `$own.Id | Select-Object Id, Rss, Pss, Uss
    Foreign = `$out | Where-Object Id -eq $($foreign.Id) | Select-Object Id, Rss, Pss, Uss
    Errors = @(`$err).Count + @(`$allErr).Count
    Warnings = @(`$warn).Count
    AllCount = @(`$all).Count
    AllWarnings = @(`$allWarn).Count
} | ConvertTo-Json -Depth 3
"@
        }

        It 'works fully for its own processes' {
            $result.Own.Rss | Should -BeGreaterThan 0
            $result.Own.Pss | Should -BeGreaterThan 0
            $result.Own.Uss | Should -BeGreaterThan 0
        }

        It 'leaves Pss and Uss empty for other users'' processes, with no error storm' {
            $result.Foreign.Rss | Should -BeGreaterThan 0
            $result.Foreign.Pss | Should -BeNullOrEmpty
            $result.Foreign.Uss | Should -BeNullOrEmpty
            $result.Errors | Should -Be 0
            $result.Warnings | Should -Be 1
            $result.AllCount | Should -BeGreaterThan 1
            $result.AllWarnings | Should -Be 1
        }
    }

    It 'declares its output type' {
        (Get-Command Get-ProcessMemory).OutputType.Type | Should -Be ([LeakTools.Model.ProcessMemoryInfo])
    }
}

# The per-process errors of the two procfs cmdlets that take -Id: each goes on to the next process.
Describe '<Command> with a process that is missing, a kernel thread or a zombie' -ForEach @(
    @{ Command = 'Get-ProcessMemory'; Type = 'GetProcessMemoryCommand'; IdProperty = 'Id' }
    @{ Command = 'Get-ProcessMemoryMap'; Type = 'GetProcessMemoryMapCommand'; IdProperty = 'ProcessId' }
) {
    It 'reports a missing PID as ObjectNotFound and still returns the other PIDs' {
        $output = @(& $Command -Id $missingPid, $sleeper.Id -ErrorVariable err -ErrorAction SilentlyContinue)
        $output.Count | Should -BeGreaterThan 0
        $output.$IdProperty | Sort-Object -Unique | Should -Be $sleeper.Id
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be "NoProcessFoundForGivenId,LeakTools.Commands.$Type"
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $missingPid
        $err[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }

    It 'says a named kernel thread has no user memory, with its own error id, and goes on to the next process' {
        $output = @(& $Command -Id 2, $sleeper.Id -ErrorVariable err -ErrorAction SilentlyContinue)
        $output.Count | Should -BeGreaterThan 0
        $output.$IdProperty | Sort-Object -Unique | Should -Be $sleeper.Id
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be "ProcessIsKernelThread,LeakTools.Commands.$Type"
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -Be 2
        $err[0].Exception.Message | Should -Be "Process 2 ($(Get-Content /proc/2/comm)) is a kernel thread: it has no user-space memory."
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'user-space process'
    }

    It 'says a named zombie has exited and waits for its parent, with its own error id' {
        $zombie = Start-ZombieProcess
        $output = @(& $Command -Id $zombie.Id -ErrorVariable err -ErrorAction SilentlyContinue)
        $output | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be "ProcessIsZombie,LeakTools.Commands.$Type"
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $zombie.Id
        $err[0].Exception.Message | Should -Match "has exited: it is a zombie, without memory, waiting for its parent \(process $($zombie.Parent.Id)\)"
    }
}
