#Requires -Version 7.4
# Files a traced process names (its libraries, their debug files, its JIT's perf map) come from its root,
# which may be a hostile container's. A corrupt library is a per-target error; a debug path or perf map aimed
# at a host file, a FIFO or /dev/zero is read inside the container's root and only as a capped regular file.

BeforeAll {
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
    Import-Module "$RepoRoot/LeakTools.psd1" -Force

    # Writes $Value into field $Offset (bytes) of the header of section $Section of ELF file $Path.
    function Set-SectionHeaderField([string] $Path, [string] $Section, [int] $Offset, [uint64] $Value) {
        $bytes = [IO.File]::ReadAllBytes($Path)
        $shoff = [BitConverter]::ToInt64($bytes, 40)
        $shentsize = [BitConverter]::ToUInt16($bytes, 58)
        $shnum = [BitConverter]::ToUInt16($bytes, 60)
        $names = [BitConverter]::ToInt64($bytes, $shoff + [BitConverter]::ToUInt16($bytes, 62) * $shentsize + 24)
        foreach ($i in 0..($shnum - 1)) {
            $header = $shoff + $i * $shentsize
            $start = $names + [BitConverter]::ToInt32($bytes, $header)
            $name = [Text.Encoding]::ASCII.GetString($bytes, $start, [Array]::IndexOf($bytes, [byte]0, [int]$start) - $start)
            if ($name -ne $Section) { continue }
            [BitConverter]::GetBytes($Value).CopyTo($bytes, $header + $Offset)
            [IO.File]::WriteAllBytes($Path, $bytes)
            return
        }
        throw "No section $Section in $Path."
    }

    # Runs Find-MemoryLeak in a fresh pwsh, killed after $TimeoutSeconds, so a hang fails the test instead of
    # stopping the run. Returns whether it finished, the frames of its leaks, its errors and its peak memory.
    function Invoke-BoundedFindMemoryLeak([int] $ProcessId, [double] $TimeoutSeconds) {
        $script = @"
Import-Module '$RepoRoot/LeakTools.psd1'
`$failures = [Collections.ArrayList]::new()
try { `$leaks = @(Find-MemoryLeak -Id $ProcessId -Duration 2 -ErrorVariable +failures -ErrorAction SilentlyContinue) }
catch { `$leaks = @(); `$null = `$failures.Add(`$_) }
[pscustomobject]@{
    Bytes = (`$leaks | Measure-Object -Property Bytes -Sum).Sum
    Frames = @(`$leaks.Stack | ForEach-Object { [pscustomobject]@{ Symbol = `$_.Symbol; ModulePath = `$_.ModulePath } })
    Errors = @(`$failures | ForEach-Object { "`$(`$_.FullyQualifiedErrorId): `$(`$_.Exception.GetType().Name): `$(`$_.Exception.Message)" })
    PeakWorkingSet = [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
} | ConvertTo-Json -Depth 4 -Compress
"@
        [string[]] $pwsh = @(& "$RepoRoot/scripts/Get-PwshCommandLine.ps1")
        $startInfo = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($argument in @($pwsh | Select-Object -Last ($pwsh.Count - 1)) + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $startInfo.ArgumentList.Add($argument) }
        $startInfo.RedirectStandardOutput = $true
        $startInfo.RedirectStandardError = $true
        $startInfo.Environment['LEAKTOOLS_DEBUG_DIRS'] = ''
        # Should a file be read without bound again, the child fails with OutOfMemory instead of exhausting the machine.
        $startInfo.Environment['DOTNET_GCHeapHardLimit'] = '0x60000000'
        $process = [Diagnostics.Process]::Start($startInfo)
        try {
            $reading = $process.StandardOutput.ReadToEndAsync()
            $readingErrors = $process.StandardError.ReadToEndAsync()
            if (-not $process.WaitForExit([int]($TimeoutSeconds * 1000))) { return [pscustomobject]@{ Finished = $false } }
            # A child that dies says why on its standard error: make that the failure, not a JSON parse error.
            if (-not $reading.Result.Trim()) { throw "The tracing PowerShell wrote no result (exit code $($process.ExitCode)): $($readingErrors.Result)" }
            $reading.Result | ConvertFrom-Json | Add-Member Finished $true -PassThru
        }
        finally {
            if (-not $process.HasExited) { $process.Kill($true); $process.WaitForExit(5000) | Out-Null }
            $process.Dispose()
        }
    }
}

Describe 'A traced library with a corrupt symbol table' {
    BeforeAll {
        # A copy of libc whose .dynsym section header claims 32-byte entries. The dynamic loader reads only the
        # program headers and the dynamic segment, so the target runs; symbol lookup must reject the file.
        $script:libDir = Join-Path ([IO.Path]::GetTempPath()) "leaktools-corrupt-libc-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory -Path $libDir | Out-Null
        $libc = (Get-Content "/proc/$PID/maps" | Where-Object { $_ -match '/libc\.so\.6$' } | Select-Object -First 1) -replace '^.*\s(/\S+)$', '$1'
        $script:badLibc = Join-Path $libDir 'libc.so.6'
        Copy-Item -LiteralPath $libc -Destination $badLibc
        Set-SectionHeaderField -Path $badLibc -Section '.dynsym' -Offset 56 -Value 32

        $env:LD_LIBRARY_PATH = $libDir
        try { $script:bad = Start-Fixture 'leak_sites_fp' @('120') }
        finally { Remove-Item Env:LD_LIBRARY_PATH }
        $script:good = Start-Fixture 'leak_sites_fp' @('120')
    }
    AfterAll {
        Stop-Fixture $bad
        Stop-Fixture $good
        Remove-Item -LiteralPath $libDir -Recurse -Force -ErrorAction Ignore
    }

    It 'runs the target on the corrupt copy' {
        Get-Content "/proc/$($bad.Id)/maps" | Where-Object { $_.EndsWith($badLibc) } | Should -Not -BeNullOrEmpty
    }

    It 'is a non-terminating TracerLibraryUnreadable error for that target, and the other target is traced' {
        $leaks = @(Find-MemoryLeak -Id $bad.Id, $good.Id -Duration 2 -ErrorVariable errors -ErrorAction SilentlyContinue)
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'TracerLibraryUnreadable,LeakTools.Commands.FindMemoryLeakCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errors[0].TargetObject | Should -Be $badLibc
        $errors[0].Exception.Message | Should -Match 'entry size 32'
        $errors[0].ErrorDetails.RecommendedAction | Should -Match 'corrupt'
        @($leaks.ProcessId | Select-Object -Unique) | Should -Be @($good.Id)
        @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' }).Count | Should -Be 1
    }

    It 'stops the command only with -ErrorAction Stop, with the same id' {
        { Find-MemoryLeak -Id $bad.Id -Duration 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'TracerLibraryUnreadable,LeakTools.Commands.FindMemoryLeakCommand'
    }
}

Describe 'A container that aims its debug file or perf map outside its root' {
    BeforeAll {
        # Only the container's /usr/lib/debug and the host's default one are searched: the fixtures' debug
        # directory, where the stripped binary's real debug file lives, is the "host-only file" below.
        $script:savedDebugDirs = $env:LEAKTOOLS_DEBUG_DIRS
        $env:LEAKTOOLS_DEBUG_DIRS = ''
        $script:binary = Join-Path $FixtureDir 'leak_sites_stripped'
        $buildId = ((& readelf -n $binary) | Select-String 'Build ID:\s*([0-9a-f]+)').Matches[0].Groups[1].Value
        $script:debugPath = "usr/lib/debug/.build-id/$($buildId.Substring(0, 2))/$($buildId.Substring(2)).debug"
        # Named by the fixture build, on the host only, with the symbols the stripped binary lacks.
        $script:hostOnlyDebugFile = Join-Path $FixtureDir "debug/.build-id/$($buildId.Substring(0, 2))/$($buildId.Substring(2)).debug"
        $script:leakFunctions = 'leak_malloc', 'leak_calloc', 'leak_realloc', 'leak_posix_memalign', 'leak_aligned_alloc', 'site_thread', 'main'
    }
    AfterAll { $env:LEAKTOOLS_DEBUG_DIRS = $savedDebugDirs }

    It 'never names frames from a host file that the debug path links to (<Case>)' -TestCases @(
        @{ Case = 'absolute symlink to a host-only debug file'; Prepare = { "ln -s '$hostOnlyDebugFile' '$debugPath'" } }
        @{ Case = 'symlink to /dev/zero, and a perf map linked to /dev/zero'; Prepare = { "ln -s /dev/zero '$debugPath'; ln -s /dev/zero tmp/perf-`$`$.map" } }
        @{ Case = 'a FIFO, through a relative symlink'; Prepare = { "mkfifo usr/lib/debug/pipe; ln -s ../../pipe '$debugPath'" } }
    ) {
        Test-Path -LiteralPath $hostOnlyDebugFile | Should -BeTrue
        $prepare = "mkdir -p '$(Split-Path $debugPath)'; " + (& $Prepare)
        $app = & "$RepoRoot/scripts/Start-ContainedProcess.ps1" -Path $binary -ArgumentList '120' -StandardOutputPath /dev/null -PrepareRoot $prepare
        try {
            # The link is there as the container sees it.
            (Get-Item -LiteralPath "/proc/$($app.ProcessId)/root/$debugPath" -Force).LinkType | Should -Be 'SymbolicLink'

            $run = Invoke-BoundedFindMemoryLeak $app.ProcessId -TimeoutSeconds 60
            $run.Finished | Should -BeTrue -Because 'reading the debug file or perf map must not hang'
            $run.Errors | Should -BeNullOrEmpty
            $run.Bytes | Should -BeGreaterThan 0 -Because 'the target is traced'
            $appFrames = @($run.Frames | Where-Object { $_.ModulePath -eq '/app' })
            $appFrames.Count | Should -BeGreaterThan 0
            @($appFrames | Where-Object { $_.Symbol -in $leakFunctions }).Symbol | Should -BeNullOrEmpty -Because 'the host-only debug file is never read'
            $run.PeakWorkingSet | Should -BeLessThan 1GB -Because 'no file is read without bound'
        }
        finally { Stop-Process -Id $app.ProcessId -ErrorAction Ignore }
    }

    It 'still names the frames from a debug file inside the container' {
        # The control: the same binary with its real debug file copied into the container's /usr/lib/debug.
        $app = & "$RepoRoot/scripts/Start-ContainedProcess.ps1" -Path $binary -ArgumentList '120' -StandardOutputPath /dev/null `
            -PrepareRoot "mkdir -p '$(Split-Path $debugPath)'; cp '$hostOnlyDebugFile' '$debugPath'"
        try {
            $leaks = @(Find-MemoryLeak -Id $app.ProcessId -Duration 2)
            @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' }).Count | Should -Be 1
        }
        finally { Stop-Process -Id $app.ProcessId -ErrorAction Ignore }
    }
}
