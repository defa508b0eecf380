# The runbook's recipes run as written.
BeforeAll {
    $root = (Resolve-Path "$PSScriptRoot/../..").ProviderPath
    Import-Module "$root/LeakTools.psd1" -Force
    $recipe = "$root/docs/recipes/Watch-MemoryGrowth.ps1"
}

Describe 'Watch-MemoryGrowth.ps1 (the scheduled sampling recipe)' {
    BeforeAll {
        # A process that leaks 8 KiB every 10 ms, and one that does not grow at all.
        $leaking = Start-Process -FilePath "$root/native/build/fibonacci" -ArgumentList '10', '3000' -RedirectStandardOutput (Join-Path $TestDrive 'app.log') -PassThru
        $steady = Start-Process -FilePath (Get-Command sleep -CommandType Application | Select-Object -First 1).Source -ArgumentList 60 -PassThru
        $log = Join-Path $TestDrive 'logs/memory.jsonl'
        $runs = foreach ($i in 1..4) {
            if ($i -gt 1) { Start-Sleep -Milliseconds 700 }
            $output = & $recipe -Name fibonacci, sleep -LogPath $log -Samples 3 -MinBytesPerSecond 64KB -ModulePath "$root/LeakTools.psd1" 3>$null
            [pscustomobject]@{ Alerts = @($output); ExitCode = $LASTEXITCODE }
        }
    }

    AfterAll {
        foreach ($p in $leaking, $steady) { if ($p -and -not $p.HasExited) { $p.Kill(); $p.WaitForExit() } }
    }

    It 'appends one JSON line per process per run' {
        $lines = @(Get-Content $log | ConvertFrom-Json)
        @($lines | Where-Object Id -EQ $leaking.Id).Count | Should -Be 4
        @($lines | Where-Object Id -EQ $steady.Id).Count | Should -Be 4
        $lines[0].PSObject.Properties.Name | Should -Be @('Timestamp', 'Id', 'Name', 'Rss', 'Pss', 'Uss', 'Swap')
        ($lines | Where-Object Id -EQ $leaking.Id | Select-Object -Last 1).Rss | Should -BeGreaterThan ($lines | Where-Object Id -EQ $leaking.Id | Select-Object -First 1).Rss
    }

    It 'stays quiet until it has enough samples' {
        foreach ($run in $runs[0..2]) {
            $run.Alerts | Should -BeNullOrEmpty
            $run.ExitCode | Should -Be 0
        }
    }

    It 'alerts on the leaking process only, with exit code 3, once growth is sustained' {
        $runs[3].ExitCode | Should -Be 3
        $runs[3].Alerts.Count | Should -Be 1
        $runs[3].Alerts[0].Id | Should -Be $leaking.Id
        $runs[3].Alerts[0].BytesPerSecond | Should -BeGreaterThan 64KB
    }
}

Describe 'The top leaking stacks of every process named X (the one-liner)' {
    BeforeAll {
        $apps = foreach ($step in '10', '20') {
            Start-Process -FilePath "$root/native/build/fibonacci" -ArgumentList $step, '1000' -RedirectStandardOutput (Join-Path $TestDrive "app$step.log") -PassThru
        }
        Start-Sleep -Milliseconds 300
    }

    AfterAll {
        foreach ($p in $apps) { if (-not $p.HasExited) { $p.Kill(); $p.WaitForExit() } }
    }

    It 'reports the leaking stack of each process' {
        # As in docs/runbook.md, minus the Format-Table at the end.
        $top = Find-MemoryLeak -Name fibonacci -Duration 2 | Group-Object ProcessId | ForEach-Object { $_.Group | Sort-Object Bytes -Descending | Select-Object -First 5 }
        $pids = @($top | ForEach-Object ProcessId | Select-Object -Unique)
        $pids | Should -Contain $apps[0].Id
        $pids | Should -Contain $apps[1].Id
        foreach ($id in $apps.Id) {
            ($top | Where-Object ProcessId -EQ $id | Select-Object -First 1).StackText | Should -Match '^fibonacci\+0x[0-9a-f]+ ← child\+0x[0-9a-f]+ ← start_thread'
        }
    }
}
