BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/ProcfsTestHelpers.ps1"

    function Get-MemInfoBytes {
        $values = @{}
        foreach ($line in Get-Content /proc/meminfo) {
            if ($line -match '^(\S+):\s+(\d+) kB$') { $values[$Matches[1]] = [long]$Matches[2] * 1KB }
        }
        $values
    }
    # Runs a command of this module in its own runspace, as a console would, until it has output enough.
    function Start-StoppableCommand([string] $Command, [int] $WaitForOutputCount) {
        $ps = [PowerShell]::Create()
        $null = $ps.AddScript("Import-Module '$PSScriptRoot/../../LeakTools.psd1'; $Command")
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $handle = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ($output.Count -lt $WaitForOutputCount -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        [pscustomobject]@{ PowerShell = $ps; Handle = $handle; Output = $output }
    }

    # Presses Ctrl+C (PowerShell.Stop) and returns how many seconds the command took to stop.
    function Stop-StoppableCommand([Parameter(ValueFromPipeline)] $Run) {
        $stopwatch = [Diagnostics.Stopwatch]::StartNew()
        $Run.PowerShell.Stop()
        $seconds = $stopwatch.Elapsed.TotalSeconds
        if (-not $Run.Handle.IsCompleted) { throw 'The command did not complete after Stop().' }
        $Run.PowerShell.Dispose()
        $seconds
    }

    # The memory of a machine shared with builds moves between two reads: "close" means within this.
    $tolerance = 256MB
}

Describe 'Get-VmStat' {
    It 'takes one sample covering the time since boot by default' {
        $samples = @(Get-VmStat)
        $samples.Count | Should -Be 1
        $samples[0] | Should -BeOfType LeakTools.Model.VmStatSample
        $uptime = [double]((Get-Content /proc/uptime) -split ' ')[0]
        $samples[0].IntervalSeconds | Should -BeGreaterThan ($uptime - 10)
        $samples[0].IntervalSeconds | Should -BeLessOrEqual ($uptime + 1)
        $samples[0].Sample | Should -Be 1
    }

    It 'reports memory columns close to /proc/meminfo, in bytes' {
        $sample = Get-VmStat
        $mem = Get-MemInfoBytes
        $sample.Total | Should -Be $mem.MemTotal
        $sample.SwapTotal | Should -Be $mem.SwapTotal
        [math]::Abs($sample.SwapUsed - ($mem.SwapTotal - $mem.SwapFree)) | Should -BeLessOrEqual $tolerance
        [math]::Abs($sample.Free - $mem.MemFree) | Should -BeLessOrEqual $tolerance
        [math]::Abs($sample.Buffers - $mem.Buffers) | Should -BeLessOrEqual $tolerance
        [math]::Abs($sample.Cache - ($mem.Cached + $mem.SReclaimable)) | Should -BeLessOrEqual $tolerance
        [math]::Abs($sample.Available - $mem.MemAvailable) | Should -BeLessOrEqual $tolerance
        [math]::Abs($sample.Active - $mem.Active) | Should -BeLessOrEqual $tolerance
        [math]::Abs($sample.Inactive - $mem.Inactive) | Should -BeLessOrEqual $tolerance
        [math]::Abs($sample.Slab - $mem.Slab) | Should -BeLessOrEqual $tolerance
        [math]::Abs($sample.Dirty - $mem.Dirty) | Should -BeLessOrEqual $tolerance
    }

    It 'agrees with procps vmstat on swpd, free, buff and cache' {
        $sample = Get-VmStat
        $line = (& vmstat)[2].Trim() -split '\s+'
        [math]::Abs($sample.SwapUsed / 1KB - [long]$line[2]) | Should -BeLessOrEqual ($tolerance / 1KB)
        [math]::Abs($sample.Free / 1KB - [long]$line[3]) | Should -BeLessOrEqual ($tolerance / 1KB)
        [math]::Abs($sample.Buffers / 1KB - [long]$line[4]) | Should -BeLessOrEqual ($tolerance / 1KB)
        [math]::Abs($sample.Cache / 1KB - [long]$line[5]) | Should -BeLessOrEqual ($tolerance / 1KB)
    }

    It 'has CPU shares that add up to 100 percent' {
        foreach ($sample in Get-VmStat -Interval 0.2 -Count 2) {
            $sum = $sample.UserPercent + $sample.SystemPercent + $sample.IdlePercent + $sample.IoWaitPercent + $sample.StealPercent + $sample.GuestPercent
            $sum | Should -BeGreaterThan 99.9
            $sum | Should -BeLessThan 100.1
        }
    }

    It 'takes -Count samples -Interval seconds apart, later ones covering the interval' {
        $samples = @(Get-VmStat -Interval 0.25 -Count 3)
        $samples.Count | Should -Be 3
        $samples.Sample | Should -Be @(1, 2, 3)
        $samples[1].IntervalSeconds | Should -BeGreaterThan 0.15
        $samples[1].IntervalSeconds | Should -BeLessThan 5
        $samples[2].Timestamp | Should -BeGreaterThan $samples[1].Timestamp
        $samples[1].ContextSwitchesPerSecond | Should -BeGreaterThan 0
        $samples[1].InterruptsPerSecond | Should -BeGreaterThan 0
    }

    It 'takes positional arguments like vmstat: interval then count' {
        @(Get-VmStat 0.1 2).Count | Should -Be 2
    }

    It 'streams with -Interval alone until stopped (Ctrl+C)' {
        $run = Start-StoppableCommand 'Get-VmStat -Interval 0.1' -WaitForOutputCount 4
        $run.Output.Count | Should -BeGreaterOrEqual 4
        $run | Stop-StoppableCommand | Should -BeLessThan 5
    }

    It 'stops a long wait between samples promptly when stopped' {
        $run = Start-StoppableCommand 'Get-VmStat -Interval 600 -Count 2' -WaitForOutputCount 1
        $run.Output.Count | Should -Be 1
        $run | Stop-StoppableCommand | Should -BeLessThan 5
    }

    It 'rejects -Interval <Interval> with a parameter validation error' -TestCases @(
        @{ Interval = 0 }, @{ Interval = -1 }, @{ Interval = [double]::NaN }, @{ Interval = 1e9 }
    ) {
        { Get-VmStat -Interval $Interval -Count 1 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,LeakTools.Commands.GetVmStatCommand'
    }

    It 'rejects -Count <Count> with a parameter validation error' -TestCases @(@{ Count = 0 }, @{ Count = -3 }) {
        { Get-VmStat -Interval 0.1 -Count $Count } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,LeakTools.Commands.GetVmStatCommand'
    }

    It 'shows vmstat''s columns in vmstat''s units by default' {
        $sample = Get-VmStat
        $text = ($sample | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() }
        $text[0].Trim() -split '\s+' | Should -Be @('r', 'b', 'swpd', 'free', 'buff', 'cache', 'si', 'so', 'bi', 'bo', 'in', 'cs', 'us', 'sy', 'id', 'wa', 'st')
        $values = $text[2].Trim() -split '\s+'
        [long]$values[3] | Should -Be ([long]($sample.Free / 1KB))
        [long]$values[5] | Should -Be ([long]($sample.Cache / 1KB))
    }

    It 'has a Wide view with the rest of the fields' {
        $header = ((Get-VmStat | Format-Table -View Wide | Out-String -Width 250) -split "`n" | Where-Object { $_.Trim() })[0]
        foreach ($column in 'time', 'avail', 'active', 'inact', 'dirty', 'slab', 'gu') {
            $header | Should -Match "\b$column\b"
        }
    }

    It 'declares its output type' {
        (Get-Command Get-VmStat).OutputType.Type | Should -Be ([LeakTools.Model.VmStatSample])
    }
}
