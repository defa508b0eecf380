# -SampleRate on real processes with real eBPF: Find-MemoryLeak's low-overhead mode (probes attached one window in N,
# the sample scaled by N) and Watch-Allocation's per-call sampling, both marked on the objects and in the views.
# The fixture leaks 1000 bytes from leak_malloc every 10 ms (100 KB/s, far more than the 1 KiB/s the mode promises to
# find within a minute, so that the test takes seconds; SamplingCycleTests covers that bound).

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
}

Describe 'Find-MemoryLeak -SampleRate' {
    BeforeAll {
        $script:process = Start-Fixture 'leak_sites_fp' @('30')
        $script:rate = 4
        $script:duration = 9
        # The trace runs in a second runspace, so this one can watch its probes come and go meanwhile.
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', "$RepoRoot/LeakTools.psd1").AddStatement().
                AddCommand('Find-MemoryLeak').AddParameters(@{ Id = $process.Id; SampleRate = $rate; Duration = $duration; Verbose = $true })
            $handle = $ps.BeginInvoke()
            # What is probed, every 100 ms: malloc (its probes come only while recording) and free (a window longer).
            $script:probed = @(while (-not $handle.IsCompleted) {
                    "malloc $(Test-LibcFunctionProbed $process.Id 'malloc'), free $(Test-LibcFunctionProbed $process.Id 'free')"
                    Start-Sleep -Milliseconds 100
                })
            $script:leaks = @($ps.EndInvoke($handle))
            $script:verbose = @($ps.Streams.Verbose | ForEach-Object Message)
            $script:warnings = @($ps.Streams.Warning | ForEach-Object Message)
        }
        finally { $ps.Dispose() }
        $script:malloc = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' })
    }
    AfterAll { Stop-Fixture $process }

    It 'finds the steady leak and scales its sample by the rate' {
        $malloc.Count | Should -Be 1
        $malloc[0].SampleRate | Should -Be $rate
        $malloc[0].Count % $rate | Should -Be 0 -Because 'each sampled allocation stands for SampleRate of them'
        $malloc[0].Bytes | Should -Be (1000 * $malloc[0].Count)
        # 100 allocations a second over the window up to -OlderThan before the report; the estimate depends on how
        # many whole recording windows fell in it (two or three of a second each), so it is within about a factor of 2.
        $made = 100 * ($duration - 0.5)
        $malloc[0].Count | Should -BeGreaterThan (0.4 * $made)
        $malloc[0].Count | Should -BeLessThan (2 * $made)
    }

    It 'marks every report as a sample, in the objects and in the view' {
        $leaks | ForEach-Object { $_.SampleRate | Should -Be $rate }
        $row = ($malloc | Format-Table | Out-String -Width 200) -split "`n" | Where-Object { $_ -match 'leak_malloc' }
        $row | Should -Match "~$($malloc[0].Bytes) +~$($malloc[0].Count) "
        $verbose | Should -Contain "Sampling: allocations are recorded 1 s in every $rate s (then frees are watched for 1 s more, then no probe is attached); reported bytes and counts are the sample times $rate."
    }

    It 'sees the frees of sampled blocks, and loses nothing when windows end mid-call' {
        @($leaks | Where-Object { $_.Count -gt 0 -and $_.Bytes / $_.Count -eq 2000 }) | Should -BeNullOrEmpty -Because 'churn_step frees all it mallocs'
        $warnings | Should -BeNullOrEmpty
        "$($malloc[0].Lost)" | Should -Be 'none'
    }

    It 'attaches the probes only part of the time: all of them, then the frees only, then none' {
        $probed | Should -Contain 'malloc True, free True' -Because 'allocations are recorded in a window'
        $probed | Should -Contain 'malloc False, free True' -Because 'the frees are watched a window longer'
        $probed | Should -Contain 'malloc False, free False' -Because 'no probe is attached between the windows'
        $probed | Should -Not -Contain 'malloc True, free False'
        Test-LibcFunctionProbed $process.Id 'free' | Should -BeFalse -Because 'the trace is over'
        Get-OurBpfLink | Should -BeNullOrEmpty
    }
}

Describe 'Watch-Allocation -SampleRate' {
    BeforeAll {
        $script:process = Start-Fixture 'leak_sites_fp' @('10')
        $script:events = @(Watch-Allocation -Id $process.Id -SampleRate 5 -Duration 1 | Select-Object -First 20)
    }
    AfterAll { Stop-Fixture $process }

    It 'marks each event as one of SampleRate, in the object and in the view' {
        $events.Count | Should -BeGreaterThan 0
        $events | ForEach-Object { $_.SampleRate | Should -Be 5 }
        ($events[0] | Format-Table | Out-String -Width 200) | Should -Match "$($events[0].Function) 1/5"
    }
}
