# Child of scripts/Bench.ps1 (section Verdict): runs Find-MemoryLeak -Verdict once in this fresh PowerShell and
# prints, as JSON, what its verbose line says about the pass (threads, pause, MiB copied, scan time), when the
# window ended and the last object came (Unix seconds), the process's peak RSS (VmHWM) before and after, and its
# minor page faults sampled every 50 ms (Unix seconds, count), so the driver can count those after the window.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $ProcessId,
    [Parameter(Mandatory)] [double] $Duration,
    [double] $PauseLimit = 5
)
$ErrorActionPreference = 'Stop'
function Get-PeakRssKb { [long]((Select-String -Path /proc/self/status -Pattern '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value) }
function Get-UnixNow { [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0 }

Import-Module $ModulePath
# Sampled from a plain .NET thread: no runspace, so it runs while the pipeline below holds this one.
Add-Type -TypeDefinition @'
public sealed class FaultSampler
{
    private readonly System.Collections.Generic.List<double[]> _samples = new System.Collections.Generic.List<double[]>();
    private volatile bool _done;
    private readonly System.Threading.Thread _thread;
    public FaultSampler()
    {
        _thread = new System.Threading.Thread(() =>
        {
            while (!_done)
            {
                long faults = long.Parse(System.IO.File.ReadAllText("/proc/self/stat").Split(' ')[9]);
                _samples.Add(new[] { System.DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, faults });
                System.Threading.Thread.Sleep(50);
            }
        }) { IsBackground = true };
        _thread.Start();
    }
    public double[][] Stop() { _done = true; _thread.Join(); return _samples.ToArray(); }
}
'@
$sampler = [FaultSampler]::new()
[GC]::Collect()
$before = Get-PeakRssKb   # after Add-Type's compiler, so that the growth is the trace's
$script:firstVerbose = $null; $script:lastObject = $null; $script:pass = $null
$verdicts = @{}
Find-MemoryLeak -Id $ProcessId -Duration $Duration -Verdict -PauseLimit $PauseLimit -Verbose -WarningAction SilentlyContinue -WarningVariable warnings 4>&1 |
    & {
        process {
            if ($_ -is [System.Management.Automation.VerboseRecord]) {
                if ($null -eq $script:firstVerbose) { $script:firstVerbose = Get-UnixNow }
                if ($_.Message -match 'paused (\d+) thread\(s\) for (\d+) ms, copied ([\d.]+) MiB; scanned and classified (\d+) block\(s\) in (\d+) ms') {
                    $script:pass = $Matches
                }
            }
            else {
                $script:lastObject = Get-UnixNow
                $verdicts["$($_.Verdict)"] = $verdicts["$($_.Verdict)"] + $_.Count
            }
        }
    }
$after = Get-PeakRssKb
$faultSamples = $sampler.Stop()
@{
    FirstVerbose = $script:firstVerbose
    LastObject   = $script:lastObject
    Threads      = $script:pass ? [int]$script:pass[1] : 0
    PauseMs      = $script:pass ? [double]$script:pass[2] : -1
    CopiedMiB    = $script:pass ? [double]$script:pass[3] : 0
    Blocks       = $script:pass ? [long]$script:pass[4] : 0
    ScanMs       = $script:pass ? [double]$script:pass[5] : -1
    HwmBeforeKb  = $before
    HwmAfterKb   = $after
    Verdicts     = (($verdicts.GetEnumerator() | Sort-Object Name | ForEach-Object { "$($_.Name) $($_.Value)" }) -join ', ')
    Warnings     = (@($warnings | ForEach-Object { "$_" }) -join ' / ')
    FaultSamples = $faultSamples
} | ConvertTo-Json -Compress -Depth 4
