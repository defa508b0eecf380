# A traced process exits and another process takes over its PID while Find-MemoryLeak still traces: the
# exit must be noticed. Liveness by PID number alone sees the newcomer and traces on.
# The PID is handed over through /proc/sys/kernel/ns_last_pid (root), in the few microseconds between
# reaping the fixture and forking its successor, so a busy machine rarely takes it first; the helper
# retries a few times and says if it never got it.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"

    # Starts the fixture as its child and prints its PID; on "go" kills and reaps it, hands its PID to a new
    # `sleep` and prints "reused PID" (or "missed PID" when another process took it first); on "end" or EOF
    # kills the successor.
    $script:ReuseHelper = Join-Path ([IO.Path]::GetTempPath()) "leaktools-pidreuse-$PID.py"
    Set-Content -Path $script:ReuseHelper -Value @'
import os, signal, subprocess, sys, time
fixture = subprocess.Popen([sys.argv[1], '60'], stdout=subprocess.DEVNULL)
print(fixture.pid, flush=True)
sys.stdin.readline()
pid = fixture.pid
fixture.kill()
fixture.wait()
successor = None
for _ in range(20):
    with open('/proc/sys/kernel/ns_last_pid', 'w') as f:
        f.write(str(pid - 1))
    child = os.fork()
    if child == 0:
        os.execvp('sleep', ['sleep', '60'])
    if child == pid:
        successor = child
        while open(f'/proc/{pid}/comm').read() != 'sleep\n':   # until the exec is done
            time.sleep(0.001)
        break
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
print(('reused ' if successor else 'missed ') + str(pid), flush=True)
sys.stdin.readline()
if successor:
    os.kill(successor, signal.SIGKILL)
    os.waitpid(successor, 0)
'@
}

AfterAll { Remove-Item -LiteralPath $script:ReuseHelper -ErrorAction Ignore }

Describe 'Find-MemoryLeak on a target whose PID is reused' {
    It 'notices the exit and ends the report, though another process now has the PID' {
        $start = [System.Diagnostics.ProcessStartInfo]@{
            FileName = 'python3'; RedirectStandardInput = $true; RedirectStandardOutput = $true; UseShellExecute = $false
        }
        $start.ArgumentList.Add($ReuseHelper)
        $start.ArgumentList.Add((Join-Path $FixtureDir 'leak_sites_fp'))
        $helper = [System.Diagnostics.Process]::Start($start)
        $ps = [PowerShell]::Create()
        try {
            $targetId = [int]$helper.StandardOutput.ReadLine()
            Wait-Until { (Get-Content -LiteralPath "/proc/$targetId/maps" -Raw -ErrorAction Ignore) -match 'libc\.so' } 5 |
                Should -BeTrue -Because 'the fixture starts'

            $null = $ps.AddCommand('Import-Module').AddParameter('Name', "$RepoRoot/LeakTools.psd1").AddStatement().
                AddCommand('Find-MemoryLeak').AddParameters(@{ Id = $targetId; Duration = 60; OlderThan = 0 })
            $run = $ps.BeginInvoke()
            Wait-Until { @(Get-OurBpfProgram).Count -gt 0 } | Should -BeTrue -Because 'the trace attaches'
            Start-Sleep -Milliseconds 500   # some leaks to report

            $helper.StandardInput.WriteLine('go')
            $helper.StandardOutput.ReadLine() | Should -Be "reused $targetId" -Because 'a new process takes over the PID'
            (Get-Content -LiteralPath "/proc/$targetId/comm") | Should -Be 'sleep'

            $run.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(10)) | Should -BeTrue -Because 'the exit ends the trace, long before -Duration 60'
            $leaks = @($ps.EndInvoke($run))
            $ps.InvocationStateInfo.State | Should -Be 'Completed'
            @($ps.Streams.Warning.Message) -like "process $targetId (leak_sites_fp) exited while it was traced*" | Should -Not -BeNullOrEmpty
            @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' }) | Should -Not -BeNullOrEmpty -Because 'what was gathered is reported'
            Get-OurBpfProgram | Should -BeNullOrEmpty
            (Get-Content -LiteralPath "/proc/$targetId/stat") -split ' ' | Select-Object -Index 2 | Should -Be 'S' -Because 'the process that reused the PID is left alone'
        }
        finally {
            $ps.Stop()
            $ps.Dispose()
            if (-not $helper.HasExited) { $helper.StandardInput.Close(); $helper.WaitForExit(5000) | Out-Null }
            if (-not $helper.HasExited) { $helper.Kill($true) }
            $helper.Dispose()
        }
    }
}
