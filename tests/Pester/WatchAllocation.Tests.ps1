# Watch-Allocation on real processes with real eBPF (fixtures from tests/fixtures).

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
}

Describe 'Watch-Allocation on a running process' {
    BeforeAll {
        $script:process = Start-Fixture 'leak_sites_fp'
        $script:events = @(Watch-Allocation -Id $process.Id -Duration 1 -IncludeStack)
    }
    AfterAll { Stop-Fixture $process }

    It 'streams one event per allocator call: <Function> of <Size> bytes from <Site>' -ForEach @(
        @{ Function = 'malloc'; Size = 1000; Site = 'leak_malloc' }
        @{ Function = 'calloc'; Size = 1200; Site = 'leak_calloc' }
        @{ Function = 'realloc'; Size = 1400; Site = 'leak_realloc' }
        @{ Function = 'posix_memalign'; Size = 1600; Site = 'leak_posix_memalign' }
        @{ Function = 'aligned_alloc'; Size = 1792; Site = 'leak_aligned_alloc' }   # 'aligned_alloc/memalign' in glibc 2.36
        @{ Function = 'mmap'; Size = 16384; Site = 'leak_mmap' }
        @{ Function = 'malloc'; Size = 2000; Site = 'churn_step' }
    ) {
        $matching = @($events | Where-Object { ($_.Function -split '/') -contains $Function -and $_.Size -eq $Size })
        $matching.Count | Should -BeGreaterThan 10
        @($matching | Where-Object ProcessId -ne $process.Id) | Should -BeNullOrEmpty
        $matching[0].Address | Should -BeGreaterThan 0
        $matching[0].Stack[0].Symbol | Should -Be $Site
        $matching[0].StackText | Should -Match "^$Site\+0x"
    }

    It 'sees the frees of the churn loop' {
        $churned = @($events | Where-Object { $_.Function -eq 'malloc' -and $_.Size -eq 2000 } | ForEach-Object Address)
        $frees = @($events | Where-Object Function -eq 'free')
        $freed = @($frees | ForEach-Object Address)
        @($churned | Where-Object { $freed -contains $_ }).Count | Should -BeGreaterThan 10
        # A free whose allocation was seen carries the size of the block it freed.
        $churnedSet = [Collections.Generic.HashSet[uint64]]::new([uint64[]]$churned)
        $churnFrees = @($frees | Where-Object { $churnedSet.Contains($_.Address) })
        @($churnFrees | Where-Object Size -ne 2000) | Should -BeNullOrEmpty
    }

    It 'names the block each realloc replaced (the fixture reallocs a fresh malloc(100) to 1400 bytes)' {
        $small = [Collections.Generic.HashSet[uint64]]::new([uint64[]]@($events | Where-Object { $_.Function -eq 'malloc' -and $_.Size -eq 100 } | ForEach-Object Address))
        $reallocs = @($events | Where-Object { $_.Function -eq 'realloc' -and $_.Size -eq 1400 })
        @($reallocs | Where-Object PreviousAddress -eq 0) | Should -BeNullOrEmpty
        @($reallocs | Where-Object { $small.Contains($_.PreviousAddress) }).Count | Should -BeGreaterThan 10
        @($events | Where-Object { $_.Function -ne 'realloc' -and $_.PreviousAddress -ne 0 }) | Should -BeNullOrEmpty
    }

    It 'comes from several threads, with timestamps in order and of now' {
        @($events.ThreadId | Select-Object -Unique).Count | Should -BeGreaterOrEqual 6
        $events[0].Timestamp | Should -BeGreaterThan ([DateTime]::Now.AddMinutes(-1))
        $events[0].Timestamp | Should -BeLessOrEqual ([DateTime]::Now)
        $times = @($events | Where-Object ThreadId -eq $events[0].ThreadId | ForEach-Object Timestamp)
        $times | Should -Be @($times | Sort-Object)
    }

    It 'shows a streaming table by default' {
        $text = $events | Select-Object -First 5 | Out-String -Width 200
        $text | Should -Match 'Function'
        $text | Should -Match '0x[0-9a-f]+'
    }
}

Describe 'Watch-Allocation filters' {
    It 'leaves out allocations below -MinSize and carries no stack without -IncludeStack' {
        $process = Start-Fixture 'leak_sites_fp'
        try {
            $events = @(Watch-Allocation -Id $process.Id -Duration 1 -MinSize 1500)
            $allocations = @($events | Where-Object Function -notin 'free', 'munmap')
            $allocations.Count | Should -BeGreaterThan 0
            @($allocations | Where-Object Size -lt 1500) | Should -BeNullOrEmpty
            # Frees are shown only for blocks whose allocation was: the churn loop's 2000-byte blocks pass,
            # their frees too; nothing else is freed by the fixture.
            $shown = [System.Collections.Generic.HashSet[uint64]]::new([uint64[]]@($allocations | ForEach-Object Address))
            @($events | Where-Object { $_.Function -eq 'free' -and -not $shown.Contains($_.Address) }) | Should -BeNullOrEmpty
            @($events | Where-Object Function -eq 'free').Count | Should -BeGreaterThan 0
            $events[0].Stack | Should -BeNullOrEmpty
        }
        finally { Stop-Fixture $process }
    }
}

Describe 'Watch-Allocation -Command' {
    It 'sees the allocations main makes before any delay' {
        $events = @(Watch-Allocation -Command (Join-Path $FixtureDir 'early_alloc_fp'), '0.3' -IncludeStack)
        $early = @($events | Where-Object { $_.Function -eq 'malloc' -and $_.Size -eq 33333 })
        $early.Count | Should -Be 3
        @($early | ForEach-Object { $_.Stack[0].Symbol } | Select-Object -Unique) | Should -Be @('main')
    }
}

Describe 'Watch-Allocation names functions that share their code' {
    BeforeAll {
        # The fixture's glibc build leaks memalign(64, 3333) from leak_extended.
        $script:events = @(Watch-Allocation -Command (Join-Path $FixtureDir 'allocator_leaks_glibc'), '0.3' -IncludeStack)
        # The libc this shell maps, which the fixture maps too: before 2.38 its memalign and aligned_alloc are one function.
        $libc = (([IO.File]::ReadAllLines('/proc/self/maps') | Where-Object { $_ -match '/libc\.so' } | Select-Object -First 1) -split '\s+', 6)[5]
        $image = [LeakTools.Symbols.ElfImage]::Open($libc)
        try {
            $memalign = [LeakTools.Symbols.ElfFunction]::new('', 0, 0); $alignedAlloc = [LeakTools.Symbols.ElfFunction]::new('', 0, 0)
            $image.TryFindFunction('memalign', [ref]$memalign) | Should -BeTrue
            $image.TryFindFunction('aligned_alloc', [ref]$alignedAlloc) | Should -BeTrue
            $script:memalignName = if ($memalign.Value -eq $alignedAlloc.Value) { 'aligned_alloc/memalign' } else { 'memalign' }
        }
        finally { $image.Dispose() }
    }

    It 'names a memalign call by every C name of its code, never by another function alone' {
        $memalignCalls = @($events | Where-Object { $_.Size -eq 3333 -and $_.Stack[0].Symbol -eq 'leak_extended' })
        $memalignCalls.Count | Should -Be 1
        $memalignCalls[0].Function | Should -BeExactly $memalignName
        $memalignCalls[0].Allocator | Should -Be 'libc.so.6'
    }

    It 'keeps one name for the functions that have one' {
        @($events | Where-Object { $_.Size -eq 1111 -and $_.Stack[0].Symbol -eq 'leak_malloc' }).Function | Should -Be @('malloc', 'malloc', 'malloc')
        @($events | Where-Object { $_.Size -eq 2220 -and $_.Stack[0].Symbol -eq 'leak_calloc' }).Function | Should -Be @('calloc', 'calloc')
    }
}

Describe 'Watch-Allocation on a process that goes quiet' {
    It 'delivers its last calls within moments, not when it next allocates' {
        # early_alloc makes three mallocs and sleeps: the kernel side collects events per CPU in batches, and
        # these three never fill one. The stream's flush rounds must deliver them while the window is open.
        $seen = @(Watch-Allocation -Command (Join-Path $FixtureDir 'early_alloc_fp'), '3' -Duration 1.5 |
                Where-Object { $_.Function -eq 'malloc' -and $_.Size -eq 33333 } |
                ForEach-Object { [pscustomobject]@{ Event = $_; Delay = [datetime]::Now - $_.Timestamp } })
        $seen.Count | Should -Be 3
        foreach ($s in $seen) { $s.Delay.TotalSeconds | Should -BeLessThan 0.5 }
    }
}

Describe 'Watch-Allocation -Kernel' {
    It 'streams kmalloc calls with kernel stacks' {
        $load = Start-KernelAllocationLoad   # the tracer leaves out its own process: a child makes the allocations
        try { $events = @(Watch-Allocation -Kernel -Duration 1 -MinSize 256 -IncludeStack -WarningAction SilentlyContinue) }
        finally { Stop-Process -Id $load.Id -ErrorAction Ignore }
        $kmalloc = @($events | Where-Object Function -eq 'kmalloc')
        $kmalloc.Count | Should -BeGreaterThan 0
        $kmalloc[0].Size | Should -BeGreaterThan 0
        $kmalloc[0].Stack[0].IsKernel | Should -BeTrue
        # kmalloc is often inlined: the innermost frame is then its caller, such as __kvmalloc_node.
        $kmalloc[0].StackText | Should -Match '^\S*kv?malloc\S*\+0x[0-9a-f]+'
        @($events | Where-Object ProcessId -eq $PID) | Should -BeNullOrEmpty -Because 'the tracer leaves out its own allocations'
    }
}

Describe 'Watch-Allocation with a slow consumer' {
    It 'counts and reports the events the ring buffer dropped, and no loss its own detach caused' {
        # allocbench makes malloc/free pairs as fast as it can on two threads (and frees them all): even at 80 us a
        # traced pair, as on a loaded machine, the 5 s stall makes twice the ~74,000 events the ring holds.
        $process = Start-Fixture (Join-Path $RepoRoot 'native/build/allocbench') -ArgumentList '-t', '2', '-s', '20'
        try {
            $seen = 0
            Watch-Allocation -Id $process.Id -Duration 5 -WarningVariable warnings -WarningAction SilentlyContinue |
                ForEach-Object { if ($seen++ -eq 0) { Start-Sleep -Seconds 5 } }
            "$warnings" | Should -Match 'ring-buffer drops [1-9]'
            # The window's end detaches entry probes before return probes: no call is left half seen, so the
            # next call on its thread counts no missed return.
            "$warnings" | Should -Not -Match 'missed returns'
        }
        finally { Stop-Fixture $process }
    }
}

Describe 'Watch-Allocation -Duration with a slow consumer' {
    It 'detaches when the window ends and delivers only what is buffered, for at most a second' {
        # A busy target (a step every millisecond) and a consumer that takes a millisecond per event: the ring
        # stays full, so delivering everything the probes make would never end.
        $process = Start-Fixture 'leak_sites_fp' -ArgumentList '30', '1'
        try {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $state = @{ Attached = $false; DetachedWhileConsuming = $false; LastCheck = 0 }
            Watch-Allocation -Id $process.Id -Duration 2 -WarningVariable warnings -WarningAction SilentlyContinue | ForEach-Object {
                if ($clock.ElapsedMilliseconds - $state.LastCheck -ge 200) {
                    $state.LastCheck = $clock.ElapsedMilliseconds
                    if (@(Get-HeldBpfId link).Count -gt 0) { $state.Attached = $true }
                    elseif ($state.Attached) { $state.DetachedWhileConsuming = $true }
                }
                Start-Sleep -Milliseconds 1
            }
            $clock.Stop()
            $state.Attached | Should -BeTrue -Because 'the probes were attached while the window was open'
            $state.DetachedWhileConsuming | Should -BeTrue -Because 'the probes are gone while buffered events are still delivered'
            # 2 s of window, at most 1 s of draining; the rest is startup and a loaded machine.
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
            "$warnings" | Should -Match 'were still buffered 1 s later and are not delivered\. Consume the events faster'
            $process.HasExited | Should -BeFalse
        }
        finally { Stop-Fixture $process }
    }
}

Describe 'Watch-Allocation stopped with Ctrl+C' {
    It 'stops streaming and detaches' {
        $process = Start-Fixture 'leak_sites_fp'
        try {
            $result = Invoke-StoppedTrace -Command Watch-Allocation -Parameters @{ Id = $process.Id; Duration = 60 } -Target $process -Ready { $output.Count -gt 100 }
            $result.Output.Count | Should -BeGreaterThan 100
            $result.Output[0].GetType().FullName | Should -Be 'LeakTools.Model.AllocationEvent'
        }
        finally { Stop-Fixture $process }
    }
}

Describe 'Watch-Allocation errors' {
    It 'reports a PID that does not exist with the full error id' {
        { Watch-Allocation -Id 2147483000 -Duration 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'NoProcessFoundForGivenId,LeakTools.Commands.WatchAllocationCommand'
    }
}

Describe 'After every Watch-Allocation' {
    It 'leaves no BPF program or link of ours behind' {
        Get-OurBpfProgram | Should -BeNullOrEmpty
        Get-OurBpfLink | Should -BeNullOrEmpty
    }
}
