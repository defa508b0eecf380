# A leak hunt on a fleet: three SSH hosts (network namespaces with their own sshd, Fleet.TestHelpers.ps1), sessions
# to all three (New-PSSession -HostName), one Invoke-Command -Session -ThrottleLimit 3 (-HostName has no
# -ThrottleLimit) running Find-MemoryLeak on a leaking fixture in each. The results must come back typed (stacks of
# frames, counters) and named (PSComputerName), and a host that is down must cost only its own part.
BeforeAll {
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
    . "$PSScriptRoot/Fleet.TestHelpers.ps1"
    Import-Module "$RepoRoot/LeakTools.psd1" -Force

    Remove-Fleet   # what an interrupted earlier run left
    $script:folder = New-FleetFolder
    $script:fleet = @(
        New-FleetHost 1 a $folder
        New-FleetHost 2 b $folder
        New-FleetHost 3 c $folder)
    $script:connection = Get-FleetConnection $folder

    # Runs on each host: the hunt, then the live objects' folded stacks, to compare with what arrives.
    $script:hunt = {
        param([string] $ModulePath, [string] $Fixture, [double] $Seconds)
        $ProgressPreference = 'SilentlyContinue'
        Import-Module $ModulePath
        $leaks = @(Find-MemoryLeak -Command $Fixture, 20 -Duration $Seconds)
        $folded = Join-Path ([IO.Path]::GetTempPath()) "leaktools-fleet-$PID.folded"
        $leaks | Export-FlameGraph -Path $folded -Format Folded
        $leaks
        # SSH_CONNECTION ends with the address and port of the sshd that took the session.
        [pscustomobject]@{ Folded = [IO.File]::ReadAllBytes($folded); Server = ($env:SSH_CONNECTION -split ' ')[2] }
        Remove-Item -LiteralPath $folded
    }

    # The runbook's fleet recipe: a session per host, then the hunt on all of them at once. Returns the output and
    # the errors of both steps.
    function Invoke-FleetHunt([double] $Seconds) {
        $sessions = @(New-PSSession -HostName $fleet.HostName @connection -ErrorVariable openErrors -ErrorAction SilentlyContinue)
        try {
            $arguments = "$RepoRoot/LeakTools.psd1", (Join-Path $FixtureDir 'leak_sites_fp'), $Seconds
            $output = if ($sessions) {
                Invoke-Command -Session $sessions -ThrottleLimit 3 -ScriptBlock $hunt -ArgumentList $arguments -ErrorVariable runErrors -ErrorAction SilentlyContinue
            }
            [pscustomobject]@{ Output = @($output); Errors = @($openErrors) + @($runErrors); Sessions = $sessions.Count }
        }
        finally { $sessions | Remove-PSSession }
    }

    $first = Invoke-FleetHunt 2
    $script:results = $first.Output
    $script:fleetErrors = $first.Errors
    $script:leaks = @($results | Where-Object { $_.PSObject.TypeNames[0] -eq 'Deserialized.LeakTools.Model.MemoryLeak' })
    $script:reports = @($results | Where-Object { $_.PSObject.Properties['Folded'] })
}

AfterAll {
    Remove-Fleet
}

Describe 'Find-MemoryLeak on three hosts over SSH remoting' {
    It 'runs on every host, each session through that host''s own sshd' {
        $fleetErrors | Should -BeNullOrEmpty
        $first.Sessions | Should -Be 3
        $reports.Count | Should -Be 3
        foreach ($report in $reports) { $report.Server | Should -Be $report.PSComputerName }
        @($reports.PSComputerName | Sort-Object) | Should -Be @($fleet.HostName | Sort-Object)
    }

    It 'brings back each host''s leaks, named by the host they came from' {
        foreach ($address in $fleet.HostName) {
            $fromHost = @($leaks | Where-Object PSComputerName -EQ $address)
            $fromHost.Count | Should -BeGreaterThan 0 -Because "$address traced a leaking fixture"
            # One group: a -Command's first allocations are walked with its unwind tables in, not cut at the caller.
            $sites = @($fromHost | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' })
            $sites.Count | Should -Be 1 -Because "$address reports the leak_malloc stack"
            $sites[0].StackComplete | Should -BeTrue
        }
    }

    It 'brings back stacks of frames with Symbol, Offset, Module, File and Line, and Lost as its counters' {
        # leak_malloc's stack of each host, chosen by StackText, which arrives as text anyway.
        $sites = @($leaks | Where-Object StackText -Like 'leak_malloc+*')
        $sites.Count | Should -Be 3 -Because 'each host reports its leak_malloc stack'
        foreach ($leak in $sites) {
            $leak.Stack[0].Symbol | Should -Be 'leak_malloc'
            $frame = $leak.Stack[0]
            $frame.PSObject.TypeNames[0] | Should -Be 'Deserialized.LeakTools.Model.StackFrame'
            $frame.Offset | Should -BeOfType [uint64]
            $frame.Offset | Should -BeGreaterThan 0
            $frame.Module | Should -Be 'leak_sites_fp'
            $frame.File | Should -BeLike '*leak_sites.c'
            $frame.Line | Should -BeOfType [int]
            $leak.Stack[1].Symbol | Should -Be 'site_thread'
            $leak.Lost.PSObject.TypeNames[0] | Should -Be 'Deserialized.LeakTools.Model.TraceLoss'
            $leak.Lost.MapFull | Should -BeOfType [uint64]
            $leak.Bytes | Should -BeOfType [uint64]
            $leak.OldestAge | Should -BeOfType [timespan]
            $leak.ReportIndex | Should -Be 1
            $leak.WindowEnd | Should -BeOfType [datetime]
        }
    }

    It 'keeps every property of MemoryLeak, none turned into text' {
        foreach ($property in [LeakTools.Model.MemoryLeak].GetProperties()) {
            $leaks[0].PSObject.Properties[$property.Name] | Should -Not -BeNullOrEmpty -Because "$($property.Name) travels"
            $value = $leaks[0].($property.Name)
            if ($null -ne $value -and $property.PropertyType -ne [string]) {
                $value | Should -Not -BeOfType [string] -Because "$($property.Name) is a $($property.PropertyType.Name), not text"
            }
        }
    }

    It 'shows the host in the default view' {
        $text = $leaks | Out-String -Width 250
        $text | Should -Match 'PSComputerName'
        foreach ($address in $fleet.HostName) { $text | Should -Match ([regex]::Escape($address)) }
    }

    It 'draws the leaks that arrived exactly as the host drew its live objects (folded stacks, byte for byte)' {
        foreach ($report in $reports) {
            $path = Join-Path $TestDrive "$($report.PSComputerName).folded"
            $leaks | Where-Object PSComputerName -EQ $report.PSComputerName | Export-FlameGraph -Path $path -Format Folded
            [Convert]::ToHexString([IO.File]::ReadAllBytes($path)) | Should -Be ([Convert]::ToHexString([byte[]]$report.Folded))
            [IO.File]::ReadAllText($path) | Should -Not -Match '\+0x' -Because 'frames merge by function'
        }
    }
}

Describe 'A fleet with one host down' {
    BeforeAll {
        $script:down = $fleet[1]
        $down.Sshd.Kill()
        $down.Sshd.WaitForExit(5000) | Out-Null
        $script:second = Invoke-FleetHunt 1
    }

    It 'gives one error, for that host' {
        $second.Errors.Count | Should -Be 1
        # New-PSSession names the session that failed to open, and through it the host.
        $second.Errors[0].FullyQualifiedErrorId | Should -Be 'PSSessionOpenFailed'
        $second.Errors[0].CategoryInfo.Category | Should -Be 'OpenError'
        $second.Errors[0].TargetObject.ConnectionInfo.ComputerName | Should -Be $down.HostName
        $second.Sessions | Should -Be 2
    }

    It 'still delivers the leaks of the others' {
        $delivered = @($second.Output | Where-Object { $_.PSObject.TypeNames[0] -eq 'Deserialized.LeakTools.Model.MemoryLeak' })
        @($delivered.PSComputerName | Select-Object -Unique | Sort-Object) | Should -Be @($fleet[0].HostName, $fleet[2].HostName)
        @($delivered | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' }).Count | Should -Be 2
    }
}
