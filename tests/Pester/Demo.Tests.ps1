# The README's first command runs scripts/Demo.ps1 after the build; this runs the same script, shorter.
BeforeAll {
    $root = (Resolve-Path "$PSScriptRoot/../..").ProviderPath
    Import-Module "$root/LeakTools.psd1" -Force
}

Describe 'The demo app (native/demo/fibonacci.c)' {
    It 'prints the sequence like the original and stops after the given number of steps' {
        $lines = & "$root/native/build/fibonacci" 1 5
        $LASTEXITCODE | Should -Be 0
        $lines | Should -Be @('2th => 1', '3th => 2', '4th => 3', '5th => 5', '6th => 8', 'main thread exit')
    }
}

Describe 'scripts/Demo.ps1' {
    BeforeAll {
        $out = Join-Path $TestDrive 'out'
        $pwsh = @(& "$root/scripts/Get-PwshCommandLine.ps1")
        [string[]] $pwshArgs = $pwsh.Count -gt 1 ? $pwsh[1..($pwsh.Count - 1)] : @()
        $output = & $pwsh[0] @pwshArgs -NoProfile -NonInteractive -File "$root/scripts/Demo.ps1" -TraceSeconds 3 -OutputDirectory $out 2>&1 | ForEach-Object { "$_" }
        $exitCode = $LASTEXITCODE
        $text = $output -join "`n"
        $started = [regex]::Match($text, 'Started PID (\d+) \(launcher PID (\d+)\)')
    }

    It 'runs every step and exits 0' {
        $exitCode | Should -Be 0 -Because $text
        foreach ($step in 1..7) { $text | Should -Match "=== Step $step of 7" }
        $text | Should -Match 'Demo complete: every step ran.'
        $text | Should -Not -Match 'FAILED'
    }

    It 'runs the app as /app in its own mount namespace' {
        $started.Success | Should -BeTrue
        $text | Should -Match 'it runs /app, which the host does not have: Test-Path /app is False'
    }

    It 'names fibonacci <- child <- start_thread with 8192-byte allocations' {
        # The app is built with plain -O2, no frame pointers: the whole stack comes from the unwind tables.
        $text | Should -Match 'fibonacci\+0x[0-9a-f]+ ← child\+0x[0-9a-f]+ ← start_thread\+0x[0-9a-f]+ ← clone3\+0x[0-9a-f]+'
        $text | Should -Match 'Top stack: fibonacci <- child <- start_thread <- clone3 \([0-9,]+ bytes in [0-9,]+ allocations of 8,192 bytes\)'
    }

    It 'writes the flame graph and the folded stacks' {
        $svg = Join-Path $out 'demo-leaks.svg'
        $text | Should -Match ([regex]::Escape("Flame graph: $svg"))
        $doc = [xml](Get-Content $svg -Raw)
        $names = @($doc.GetElementsByTagName('g') | ForEach-Object { $_.GetAttribute('data-name') })
        $names | Should -Contain 'fibonacci'
        $names | Should -Contain 'start_thread'
        Get-Content (Join-Path $out 'demo-leaks.folded') | Should -Match '^app;clone3;start_thread;child;fibonacci \d+$'
    }

    It 'leaves nothing running' {
        $started.Success | Should -BeTrue -Because $text
        foreach ($id in $started.Groups[1].Value, $started.Groups[2].Value) {
            # Gone (no state), or a zombie its parent has not reaped yet: either way not running.
            $stat = Get-Content "/proc/$id/stat" -Raw -ErrorAction Ignore
            $state = if ($stat -match '^\d+ \(.*\) (\S) ') { $Matches[1] }
            "$state" | Should -BeIn '', 'Z' -Because "process $id must not run on"
        }
    }
}
