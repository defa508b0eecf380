# Stacks as Find-MemoryLeak names them, on real processes: functions that left the stack by a tail call are put
# back as "[tail call]" frames (tests/fixtures/tail_calls.c with libtailcalls.so, -O2 with frame pointers), and
# values a frame-pointer walk read that are no return address are cut off, so one site is one stack
# (tests/fixtures/garbage_frames.c, -O2 without frame pointers). One trace of both fixtures serves every test.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"

    $script:tailCalls = Start-Fixture 'tail_calls_tail'
    $script:garbage = Start-Fixture 'garbage_frames_nofp'
    $script:leaks = @(Find-MemoryLeak -Id $tailCalls.Id, $garbage.Id -Duration 2 -OlderThan 0)

    # The leaks of tail_calls whose blocks have this size (each site leaks its own size).
    function Get-SiteLeak([int] $Size) {
        @($leaks | Where-Object { $_.ProcessId -eq $tailCalls.Id -and $_.Bytes / $_.Count -eq $Size })
    }
    # A stack's first frames as text, innermost first.
    function Get-Frames($Leak, [int] $Count) { @($Leak.Stack | Select-Object -First $Count | ForEach-Object { "$($_.Symbol)$(if ($_.IsTailCall) { ' [tail call]' })" }) }
}

AfterAll {
    Stop-Fixture $tailCalls
    Stop-Fixture $garbage
}

Describe 'A function that ends in a tail call' {
    It 'shows <Tail> as a tail-call frame between the allocator and <Caller> (<Case>)' -ForEach @(
        @{ Case = 'a local function, jmp calloc@plt'; Size = 3001; Tail = 'local_tail_calloc'; Caller = 'site_local_tail' }
        @{ Case = 'a library function called through the PLT'; Size = 3003; Tail = 'lib_tail_calloc'; Caller = 'site_plt_tail' }
        @{ Case = 'a library function called through the GOT, no PLT'; Size = 3004; Tail = 'lib_tail_calloc_got'; Caller = 'site_got_tail' }
    ) {
        $leak = @(Get-SiteLeak $Size)
        $leak.Count | Should -Be 1 -Because 'one stack allocates at this site'
        Get-Frames $leak[0] 3 | Should -Be @("$Tail [tail call]", $Caller, 'main')
        $leak[0].Stack[0].IsTailCall | Should -BeTrue
        $leak[0].Stack[0].ToString() | Should -Be "$Tail [tail call]"
        $leak[0].Stack[1].IsTailCall | Should -BeFalse
        $leak[0].StackText | Should -BeLike "$Tail ``[tail call``] ← $Caller+0x* ← main+0x*"
        $module = if ($Tail -like 'lib_*') { 'libtailcalls.so' } else { 'tail_calls_tail' }
        $leak[0].Stack[0].Module | Should -Be $module
    }

    It 'shows the function that jumped to another one between that one and its caller (jmp inner_alloc, no PLT), and none where no tail call was made' {
        $leak = @(Get-SiteLeak 3002)
        $leak.Count | Should -Be 1
        Get-Frames $leak[0] 4 | Should -Be @('inner_alloc', 'outer_alloc [tail call]', 'site_inner_tail', 'main')
        @($leak[0].Stack | Where-Object IsTailCall).Count | Should -Be 1

        $plain = @(Get-SiteLeak 3005)
        $plain.Count | Should -Be 1
        Get-Frames $plain[0] 2 | Should -Be @('site_plain', 'main')
        @($plain[0].Stack | Where-Object IsTailCall) | Should -BeNullOrEmpty
    }

    It 'marks the tail-call frame in the folded stacks of the flame graph' {
        $path = Join-Path $TestDrive 'tail.folded'
        Get-SiteLeak 3001 | Export-FlameGraph -Path $path -Format Folded
        Get-Content -LiteralPath $path | Should -BeLike '*;main;site_local_tail;local_tail_calloc `[tail call`] *'
    }
}

Describe 'Values that are no return address' {
    It 'never show as frames: the stack ends at the last real one' {
        $garbageLeaks = @($leaks | Where-Object ProcessId -EQ $garbage.Id)
        $garbageLeaks.Count | Should -Be 1 -Because 'the four kinds of garbage in rbp leave one site, one stack'
        @($garbageLeaks[0].Stack | ForEach-Object Symbol) | Should -Be @('alloc_with_rbp')
        $garbageLeaks[0].StackText | Should -Not -Match '(^|← )0x' -Because 'no frame is a bare address'
        $garbageLeaks[0].Bytes / $garbageLeaks[0].Count | Should -Be 3100
        $garbageLeaks[0].Count | Should -BeGreaterThan 100 -Because 'every allocation of the site is in the one group (100 a second for 2 s)'
    }
}
