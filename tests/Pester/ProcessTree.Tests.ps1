# The process tree: -Command traces everything the command starts (its children, their execs, a daemon it leaves
# behind), -IncludeChildren follows the children an -Id target forks, and an exec drops the old image's blocks.
# process_tree (tests/fixtures/process_tree.c) leaks known sizes at known sites in each role; see its header.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
    . "$PSScriptRoot/ChildPwsh.TestHelpers.ps1"

    $script:Tree = Join-Path $FixtureDir 'process_tree_fp'
    $script:LeakSites = Join-Path $FixtureDir 'leak_sites_fp'

    # Output, verbose and warning messages of one traced run, apart.
    function Split-TraceOutput($Output) {
        [pscustomobject]@{
            Leaks = @($Output | Where-Object { $_ -is [LeakTools.Model.MemoryLeak] })
            Events = @($Output | Where-Object { $_ -is [LeakTools.Model.AllocationEvent] })
            Verbose = @($Output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            Warnings = @($Output | Where-Object { $_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object Message)
        }
    }

    # The leak whose stack passes through $Symbol (the sites call one leak() helper).
    function Find-LeakAt($Leaks, [string] $Symbol) { @($Leaks | Where-Object { $_.Stack.Symbol -contains $Symbol }) }

    function Test-ProcessDead([int] $ProcessId) { (Get-ProcessState $ProcessId) -in @('', 'Z') }
}

Describe 'Find-MemoryLeak -Command traces the whole tree it starts' {
    BeforeAll {
        $pidFile = Join-Path $TestDrive 'leaker.pid'
        # The shell forks the leaker and waits for it; the leaker prints its own pid first.
        $script:run = Split-TraceOutput (Find-MemoryLeak -Command sh, '-c', "'$Tree' leak 1 > '$pidFile'; true" -Verbose 4>&1 3>&1)
        $script:leakerId = [int](Get-Content $pidFile)
    }

    It "reports the leaker's site with the leaker's own process id and name" {
        $leak = @(Find-LeakAt $run.Leaks 'tree_leak')
        $leak.Count | Should -Be 1
        $leak[0].ProcessId | Should -Be $leakerId
        $leak[0].ProcessName | Should -Be 'process_tree_fp'
        $leak[0].Count | Should -Be 25
        $leak[0].Bytes | Should -Be (25 * 3700)
    }

    It "groups leaks per process: the shell's under the shell's id and name, the leaker's under its own" {
        $byProcess = @($run.Leaks | Group-Object ProcessId)
        $byProcess.Count | Should -Be 2
        foreach ($group in $byProcess) {
            $expected = if ([int]$group.Name -eq $leakerId) { 'process_tree_fp' } else { 'sh' }
            $group.Group.ProcessName | Sort-Object -Unique | Should -Be $expected
        }
    }

    It 'says in -Verbose that the child was traced, and that its exec dropped what its shell image held' {
        $run.Verbose | Should -Contain "process $(@($run.Leaks | Where-Object ProcessName -EQ 'sh')[0].ProcessId) forked process $leakerId (sh): traced."
        ($run.Verbose -match "^process $leakerId \(sh\) exec'd process_tree_fp: dropped the \d+ outstanding").Count | Should -Be 1
    }
}

Describe 'A child whose new image has no allocator the trace probes' {
    It 'is named in a warning, not passed over in silence' {
        # A static binary maps no libc.so: the probes in the shell's libc cannot see its calls.
        $static = Join-Path $FixtureDir 'process_tree_static'
        $pidFile = Join-Path $TestDrive 'static.pid'
        $run = Split-TraceOutput (Find-MemoryLeak -Command sh, '-c', "'$static' leak 1 > '$pidFile'; true" 3>&1)
        $staticId = [int](Get-Content $pidFile)
        @($run.Warnings -like "process $staticId (process_tree_st) exec'd an image that does not map */libc.so.6: its allocator calls are not traced from there on.").Count | Should -Be 1
        @($run.Leaks | Where-Object ProcessId -EQ $staticId) | Should -BeNullOrEmpty
    }
}

Describe '-IncludeChildren follows the children an -Id target forks' {
    BeforeAll {
        # process_tree fork: once probed, the parent leaks 10 x 2100 bytes, then forks a child that leaks 40 x 3100 at once.
        $parent = Start-Fixture 'process_tree_fp' @('fork', '6')
        try { $script:following = Split-TraceOutput (Find-MemoryLeak -Id $parent.Id -Duration 2.5 -IncludeChildren -Verbose 4>&1 3>&1) }
        finally { Stop-Fixture $parent }
        $script:parentId = $parent.Id

        $parent = Start-Fixture 'process_tree_fp' @('fork', '6')
        try { $script:alone = Split-TraceOutput (Find-MemoryLeak -Id $parent.Id -Duration 2.5 -Verbose 4>&1 3>&1) }
        finally { Stop-Fixture $parent }
        $script:aloneParentId = $parent.Id
    }

    It "with -IncludeChildren, reports the child's leak under the child's id, every allocation from its first" {
        $leak = @(Find-LeakAt $following.Leaks 'child_leak')
        $leak.Count | Should -Be 1
        $leak[0].ProcessId | Should -Not -Be $parentId
        $leak[0].ProcessName | Should -Be 'process_tree_fp'
        $leak[0].Count | Should -Be 40
        $leak[0].Bytes | Should -Be (40 * 3100)
        $following.Verbose | Should -Contain "process $parentId forked process $($leak[0].ProcessId) (process_tree_fp): traced."
    }

    It "keeps the parent's own leak under the parent's id" {
        $leak = @(Find-LeakAt $following.Leaks 'parent_leak')
        $leak.Count | Should -Be 1
        $leak[0].ProcessId | Should -Be $parentId
        $leak[0].Count | Should -Be 10
    }

    It 'without it, warns that the child was not traced, and reports the parent alone' {
        Find-LeakAt $alone.Leaks 'child_leak' | Should -BeNullOrEmpty
        @(Find-LeakAt $alone.Leaks "parent_leak")[0].Count | Should -Be 10
        $warning = @($alone.Warnings -like '*forked during the trace are not traced*')
        $warning.Count | Should -Be 1
        $warning[0] | Should -BeLike "1 child process(es)*(forked by process $aloneParentId (process_tree_fp))*-IncludeChildren*"
    }
}

Describe 'Watch-Allocation -IncludeChildren' {
    It "streams the child's calls with the child's id and name" {
        $parent = Start-Fixture 'process_tree_fp' @('fork', '6')
        try { $events = @(Watch-Allocation -Id $parent.Id -IncludeChildren -Duration 2.5 -MinSize 3100 -MaxSize 3100) }
        finally { Stop-Fixture $parent }
        $child = @($events | Where-Object { $_.Function -eq 'malloc' -and $_.ProcessId -ne $parent.Id })
        $child.Count | Should -Be 40
        $child.ProcessName | Sort-Object -Unique | Should -Be 'process_tree_fp'
    }
}

Describe 'A target that execs while it is traced' {
    BeforeAll {
        # process_tree exec: once probed, leaks 20 x 2500 bytes, then becomes leak_sites (same pid).
        $target = Start-Fixture 'process_tree_fp' @('exec', $LeakSites, '6')
        try { $script:run = Split-TraceOutput (Find-MemoryLeak -Id $target.Id -Duration 2.5 -Verbose 4>&1 3>&1) }
        finally { Stop-Fixture $target }
        $script:targetId = $target.Id
    }

    It "reports nothing of the old image: its blocks died with its address space" {
        @($run.Leaks | Where-Object { $_.Bytes / $_.Count -eq 2500 }) | Should -BeNullOrEmpty
        Find-LeakAt $run.Leaks 'old_image_leak' | Should -BeNullOrEmpty
    }

    It 'says so in -Verbose, with what was dropped' {
        $run.Verbose | Should -Contain "process $targetId (process_tree_fp) exec'd leak_sites_fp: dropped the 20 outstanding allocation(s) (50000 bytes) of its old image, which died with its address space."
    }

    It "names the new image's stacks with the new image's symbols and name" {
        # Allocations of the new image made before its unwind tables are in keep their direct caller alone: a
        # second group of the same site (docs/engine.md, "Unwind tables", limits). Every group is the new image's.
        $leaks = @($run.Leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' })
        $leaks.Count | Should -BeGreaterThan 0
        foreach ($leak in $leaks) {
            $leak.ProcessId | Should -Be $targetId
            $leak.ProcessName | Should -Be 'leak_sites_fp'
            $leak.Bytes / $leak.Count | Should -Be 1000
        }
    }
}

Describe 'A command that daemonizes' {
    It 'is traced through its child after the command itself has exited, until the child exits' {
        # process_tree daemon: the command exits at once; its child leaks 30 x 3300 bytes 0.3 s later, lives 1 s more.
        $pidFile = Join-Path $TestDrive 'daemon.pid'
        $run = Split-TraceOutput (Find-MemoryLeak -Command $Tree, 'daemon', '1', $pidFile -Verbose 4>&1 3>&1)
        $daemonId = [int](Get-Content $pidFile)
        $leak = @(Find-LeakAt $run.Leaks 'daemon_leak')
        $leak.Count | Should -Be 1
        $leak[0].ProcessId | Should -Be $daemonId
        $leak[0].Count | Should -Be 30
        ($run.Verbose -like "*exited; the trace goes on through the 1 process(es) it was traced through that still run: process $daemonId (process_tree_fp).").Count |
            Should -Be 1
        Test-ProcessDead $daemonId | Should -BeTrue
    }

    It 'kills, and names, a daemon that still runs when the trace ends' {
        $pidFile = Join-Path $TestDrive 'daemon-killed.pid'
        $run = Split-TraceOutput (Find-MemoryLeak -Command $Tree, 'daemon', '30', $pidFile -Duration 1.5 -Verbose 4>&1 3>&1)
        $daemonId = [int](Get-Content $pidFile)
        $run.Verbose | Should -Contain "process $daemonId (process_tree_fp), started by the command, still ran when the trace ended: killed, as the command is."
        Wait-Until { Test-ProcessDead $daemonId } 5 | Should -BeTrue -Because 'the daemon does not outlive the trace'
    }
}
