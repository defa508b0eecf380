BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/ProcfsTestHelpers.ps1"
    $sleeper = Start-ProcfsTestProcess -FilePath sleep -ArgumentList @('300')
}

AfterAll {
    Stop-ProcfsTestProcess
}

Describe 'Compare-ProcessMemoryMap' {
    Context 'a growing process, compared over an interval' {
        BeforeAll {
            $grower = Start-GrowingProcess
            $changes = @(Compare-ProcessMemoryMap -Id $grower.Id -Interval 1)
        }

        It 'returns typed change objects, biggest Rss growth first' {
            $changes[0] | Should -BeOfType LeakTools.Model.MemoryMappingChange
            $changes[0].RssDelta | Should -BeGreaterThan 4MB
            # The 1 MiB blocks are mmaps the kernel merges into the region above: it grows downwards, keeping its end.
            $changes[0].Change | Should -Be 'Grown'
            $deltas = $changes.RssDelta
            $deltas | Should -Be ($deltas | Sort-Object -Descending)
        }

        It 'says which anonymous mappings grew, with a rate' {
            $growth = $changes | Where-Object { $_.Change -eq 'Grown' -and $_.Kind -in 'Anonymous', 'Heap' } | Select-Object -First 1
            $growth | Should -Not -BeNullOrEmpty
            $growth.RssAfter - $growth.RssBefore | Should -Be $growth.RssDelta
            $growth.IntervalSeconds | Should -BeGreaterThan 0.9
            $growth.RssBytesPerSecond | Should -BeGreaterThan 0
            $growth.ProcessId | Should -Be $grower.Id
        }

        It 'leaves unchanged mappings out' {
            $changes.Change | Should -Not -Contain 'Unchanged'
        }
    }

    It 'compares two snapshots given by position or through the pipeline' {
        $grower = Start-GrowingProcess
        $before = Get-ProcessMemoryMap -Id $grower.Id
        Start-Sleep -Milliseconds 600
        $after = Get-ProcessMemoryMap -Id $grower.Id
        $byPosition = @(Compare-ProcessMemoryMap $before $after)
        $byPipeline = @($after | Compare-ProcessMemoryMap -ReferenceObject $before)
        $byPosition[0].RssDelta | Should -BeGreaterThan 1MB
        $byPipeline.Count | Should -Be $byPosition.Count
        $byPipeline[0].RssDelta | Should -Be $byPosition[0].RssDelta
    }

    It 'compares a snapshot that went through Export-Clixml' {
        $before = Get-ProcessMemoryMap -Id $PID
        $before | Export-Clixml (Join-Path $TestDrive 'before.xml')
        $restored = Import-Clixml (Join-Path $TestDrive 'before.xml')
        $after = Get-ProcessMemoryMap -Id $PID
        $fromFile = @(Compare-ProcessMemoryMap $restored $after -IncludeUnchanged)
        $direct = @(Compare-ProcessMemoryMap $before $after -IncludeUnchanged)
        $fromFile.Count | Should -Be $direct.Count
        ($fromFile | Measure-Object RssDelta -Sum).Sum | Should -Be (($direct | Measure-Object RssDelta -Sum).Sum)
    }

    It 'lists every mapping as unchanged for a quiescent process with -IncludeUnchanged' {
        $changes = @(Compare-ProcessMemoryMap -Id $sleeper.Id -Interval 0.2 -IncludeUnchanged)
        $changes.Count | Should -Be @(Get-Content "/proc/$($sleeper.Id)/maps").Count
        $changes.Change | Sort-Object -Unique | Should -Be 'Unchanged'
    }

    It 'flags the mappings of a process that exited between snapshots as removed, with one error' {
        $shortLived = Start-ProcfsTestProcess -FilePath sleep -ArgumentList @('2')
        $changes = @(Compare-ProcessMemoryMap -Id $shortLived.Id -Interval 3 -ErrorVariable err -ErrorAction SilentlyContinue)
        $changes.Count | Should -BeGreaterThan 0
        $changes.Change | Sort-Object -Unique | Should -Be 'Removed'
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'ProcessExited,LeakTools.Commands.CompareProcessMemoryMapCommand'
        $err[0].TargetObject | Should -Be $shortLived.Id
    }

    It 'rejects objects that are not mappings' {
        $null = Compare-ProcessMemoryMap -ReferenceObject @('not a mapping') -DifferenceObject @() -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'NotAMemoryMapping,LeakTools.Commands.CompareProcessMemoryMapCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'rejects -Interval <Interval>' -TestCases @(@{ Interval = 0 }, @{ Interval = -2 }) {
        { Compare-ProcessMemoryMap -Id $sleeper.Id -Interval $Interval } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,LeakTools.Commands.CompareProcessMemoryMapCommand'
    }

    It 'reports a missing PID as ObjectNotFound' {
        $null = Compare-ProcessMemoryMap -Id 2147483000 -Interval 0.1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'NoProcessFoundForGivenId,LeakTools.Commands.CompareProcessMemoryMapCommand'
        $err[0].TargetObject | Should -Be 2147483000
    }

    It 'binds process objects piped from Get-Process' {
        $changes = @(Get-Process -Id $sleeper.Id | Compare-ProcessMemoryMap -Interval 0.1 -IncludeUnchanged)
        $changes.ProcessId | Sort-Object -Unique | Should -Be $sleeper.Id
    }

    It 'shows deltas in KiB by default' {
        $changes = Compare-ProcessMemoryMap -Id $sleeper.Id -Interval 0.1 -IncludeUnchanged
        $header = (($changes | Out-String -Width 250) -split "`n" | Where-Object { $_.Trim() })[0]
        $header | Should -Match 'Change\s+Address\s+Kind\s+RssBefore\(K\)\s+RssAfter\(K\)\s+RssDelta\(K\)'
    }

    It 'declares its output type' {
        (Get-Command Compare-ProcessMemoryMap).OutputType.Type | Should -Be ([LeakTools.Model.MemoryMappingChange])
    }
}
