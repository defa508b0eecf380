# Stacks of code built without frame pointers, walked by the unwind tables in BPF, against gdb as the oracle.
# One traced run of tests/fixtures/unwind_cases.c (a PIE built -O2 -fomit-frame-pointer; every case on its own
# thread, each leaking blocks of its own size) and one gdb run of the same program that prints, at the first malloc
# of each size, the stack gdb unwinds (GdbStacks.py). Frames are compared as module + file offset.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"

    # The sizes unwind_cases.c allocates, one per case (see its header).
    $script:Sizes = 3001, 3002, 3004, 3005, 3006, 3008, 3010, 3012
    $binary = Join-Path $FixtureDir 'unwind_cases_nofppie'
    $arguments = @((Join-Path $FixtureDir 'libunwind_late.so'), (Join-Path $FixtureDir 'libunwind_cpp.so'))

    # The oracle: gdb's own unwind (DWARF CFI, debug info) of the same program, at the same allocations. Every malloc
    # traps into gdb, so the program runs slowly there: it may take 60 s, and is killed once every size was seen.
    $env:LEAKTOOLS_GDB_SIZES = $Sizes -join ','
    $gdbOutput = & gdb -batch -nx -ex 'set pagination off' -ex 'set debuginfod enabled off' -ex 'set startup-with-shell off' `
        -ex 'handle SIGUSR1 nostop noprint pass' -x "$PSScriptRoot/GdbStacks.py" -ex run -ex kill --args $binary 60 @arguments 2>&1
    $script:GdbStacks = @{}
    foreach ($line in $gdbOutput) {
        if ("$line" -match '^STACK (\d+) (.*)$') { $GdbStacks[[int]$Matches[1]] = @($Matches[2] -split ' ') }
    }
    $script:GdbText = $gdbOutput -join "`n"

    # The traced run: launched, so the dlopen (0.8 s in) comes after the trace began.
    $script:Leaks = @(Find-MemoryLeak -Command (@($binary, '4') + $arguments) -Duration 2.5 -OlderThan 0.2)

    # The frames of the complete stack (or, for the recursion, the one cut at the depth limit) of a size.
    function Get-TracedStack([int] $Size) {
        $leak = @($Leaks | Where-Object { $_.Count -gt 0 -and $_.Bytes / $_.Count -eq $Size -and $_.StackEnd -in 'EndOfStack', 'DepthLimit' })
        $leak.Count | Should -Be 1 -Because "one walked stack allocates $Size bytes"
        $leak[0]
    }
    # The walked frames: a tail-call frame (Stacks/TailCallResolver) has no return address on the stack, and the gdb
    # script leaves gdb's own tail-call frames out too.
    function Format-Frames($Leak) { @($Leak.Stack | Where-Object { -not $_.IsTailCall } | ForEach-Object { '{0}+0x{1:x}' -f $_.Module, $_.ModuleOffset }) }
}

Describe 'Unwinding without frame pointers, gdb as the oracle' {
    It 'gdb stopped at every case' {
        @($GdbStacks.Keys | Sort-Object) | Should -Be $Sizes -Because $GdbText
    }

    It 'names the same frames as gdb, caller to clone3, for <Name>' -ForEach @(
        @{ Size = 3001; Name = 'a 30-deep call chain' }
        @{ Size = 3004; Name = 'strdup (libc allocates)' }
        @{ Size = 3005; Name = 'qsort calling an allocating comparator' }
        @{ Size = 3006; Name = 'a signal handler' }
        @{ Size = 3008; Name = 'a library dlopened after the trace began' }
        @{ Size = 3010; Name = 'std::vector growth (libstdc++)' }
        @{ Size = 3012; Name = 'std::string (libstdc++)' }
    ) {
        $leak = Get-TracedStack $Size
        Format-Frames $leak | Should -Be $GdbStacks[$Size]
        $leak.StackEnd | Should -Be 'EndOfStack'
        $leak.StackComplete | Should -BeTrue
        $leak.StackSource | Should -Be 'UnwindTables'
        $leak.Stack[-2].Symbol | Should -Be 'start_thread'
        $leak.Stack[-1].Symbol | Should -Be 'clone3'
    }

    It 'walks the 30-deep chain by name' {
        $leak = Get-TracedStack 3001
        $names = @($leak.Stack | ForEach-Object Symbol)
        $names[0..30] | Should -Be (@('leaf') + @(1..30 | ForEach-Object { "chain_$_" }))
        $names[31] | Should -Be 'run_case'
    }

    It 'crosses the signal frame into the interrupted code' {
        $names = @((Get-TracedStack 3006).Stack | ForEach-Object Symbol)
        $names[0] | Should -Be 'on_signal'
        $names | Should -Contain 'raise'
        $names | Should -Contain 'signal_case'
    }

    It 'reports the depth limit, not a complete stack, for recursion 200 deep' {
        $leak = Get-TracedStack 3002
        $leak.StackEnd | Should -Be 'DepthLimit'
        $leak.StackComplete | Should -BeFalse
        $leak.Stack.Count | Should -Be 128
        Format-Frames $leak | Should -Be $GdbStacks[3002][0..127]
        @($leak.Stack | Select-Object -Last ($leak.Stack.Count - 1) | Where-Object Symbol -ne 'recurse') | Should -BeNullOrEmpty
    }

    It 'walks the library dlopened after the trace began' {
        $names = @((Get-TracedStack 3008).Stack | ForEach-Object Symbol)
        $names[0..2] | Should -Be 'late_leaf', 'late_alloc', 'run_case'
    }
}

# exec_window (tests/fixtures, -O2 -fomit-frame-pointer PIE) mallocs 4444 bytes five times in main's first microseconds,
# through exec_outer -> exec_middle -> exec_leaf, then sleeps. ld.so maps libc after the exec: unless the launched
# program waits at its entry point until the tables are in, these stacks stop at main (UnknownCode), a second group.
Describe 'A launched program''s first allocations' {
    BeforeAll {
        $script:ExecLeaks = @(Find-MemoryLeak -Command (Join-Path $FixtureDir 'exec_window_nofppie'), '4' -Duration 1.5 -OlderThan 0.2 |
            Where-Object { $_.Count -gt 0 -and $_.Bytes / $_.Count -eq 4444 })
    }

    It 'form one group with the complete stack, through libc to _start' {
        $ExecLeaks.Count | Should -Be 1 -Because 'a caller-only group would mean stacks walked before the tables were in'
        $ExecLeaks[0].Count | Should -Be 5
        $ExecLeaks[0].StackEnd | Should -Be 'EndOfStack'
        $ExecLeaks[0].StackComplete | Should -BeTrue
        $names = @($ExecLeaks[0].Stack | ForEach-Object Symbol)
        $names[0..3] | Should -Be 'exec_leaf', 'exec_middle', 'exec_outer', 'main'
        $names[-1] | Should -Be '_start'
    }
}
