# What a report says about itself (ReportIndex, its window, the periodic view, the StackFrame view), and how
# LeakTools objects travel: serialized as remoting serializes (depth 1 unless the type says otherwise), every type
# must arrive with every property and show and draw as the live object does. Fleet.Tests.ps1 does the same over SSH.
BeforeAll {
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"
    Import-Module "$RepoRoot/LeakTools.psd1" -Force
    $ProgressPreference = 'SilentlyContinue'

    $fixture = Join-Path $FixtureDir 'leak_sites_fp'
    # Two reports a second apart; -OlderThan is the default 0.5 s.
    $script:periodic = @(Find-MemoryLeak -Command $fixture, 20 -Interval 1 -Count 2)
    # leak_malloc's malloc(1000) only, with stacks.
    $script:events = @(Watch-Allocation -Command $fixture, 20 -IncludeStack -MinSize 1000 -MaxSize 1000 -Duration 2 | Select-Object -First 5)
    $script:samples = [ordered]@{
        MemoryLeak          = $periodic
        AllocationEvent     = $events
        StackFrame          = @($periodic[0].Stack)
        TraceLoss           = @($periodic[0].Lost)
        MemoryMapping       = @(Get-ProcessMemoryMap -Id $PID | Select-Object -First 8)
        MemoryMappingChange = @(Compare-ProcessMemoryMap -Id $PID -Interval 0.2 -IncludeUnchanged | Select-Object -First 8)
        ProcessMemoryInfo   = @(Get-ProcessMemory -Id $PID -Interval 0.2 -Count 2)
        VmStatSample        = @(Get-VmStat -Interval 0.2 -Count 2)
    }

    # What arrives at the other end of remoting: each output object through PowerShell's serializer at remoting's
    # default depth.
    function ConvertTo-Remoted($InputObject) {
        foreach ($item in $InputObject) {
            [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($item, 1))
        }
    }

    # How $Remoted differs from the live object $Live: one line per difference, nothing when it arrived whole.
    function Get-ShapeDifference($Live, $Remoted, [string] $Path) {
        # Plain assignments: an if-expression would unroll a one-item array.
        $base = $Live
        if ($Live -is [psobject]) { $base = $Live.PSObject.BaseObject }
        $remotedBase = $Remoted
        if ($Remoted -is [psobject]) { $remotedBase = $Remoted.PSObject.BaseObject }
        if ($null -eq $base) {
            if ($null -ne $remotedBase) { "${Path}: null became '$Remoted'" }
            return
        }
        if ($base -is [enum] -and $remotedBase -isnot [enum]) {
            "${Path}: the enum $($base.GetType().FullName) arrived as a number; name Deserialized.$($base.GetType().FullName) with a TargetTypeForDeserialization in LeakTools.types.ps1xml"
            return
        }
        if ($base -is [string] -or $base -is [ValueType]) {
            if ($null -eq $remotedBase -or $remotedBase.GetType() -ne $base.GetType() -or $remotedBase -ne $base) {
                "${Path}: $($base.GetType().Name) $base became $(if ($null -eq $remotedBase) { 'null' } else { "$($remotedBase.GetType().Name) $remotedBase" })"
            }
            return
        }
        if ($base -is [Collections.IDictionary]) {
            if ($remotedBase -isnot [Collections.IDictionary]) { "${Path}: a dictionary became '$Remoted'"; return }
            foreach ($key in $base.Keys) { Get-ShapeDifference $base[$key] $remotedBase[$key] "$Path[$key]" }
            return
        }
        if ($base -is [Collections.IEnumerable]) {
            $items = @($base); $remotedItems = @($Remoted)
            if ($remotedItems.Count -ne $items.Count) { "${Path}: $($items.Count) items became $($remotedItems.Count)"; return }
            for ($i = 0; $i -lt $items.Count; $i++) { Get-ShapeDifference $items[$i] $remotedItems[$i] "$Path[$i]" }
            return
        }
        if ($remotedBase -is [string] -or $Remoted -isnot [psobject]) { "${Path}: a $($base.GetType().Name) became text '$Remoted'"; return }
        if ($Remoted.PSObject.TypeNames -notcontains "Deserialized.$($base.GetType().FullName)") {
            "${Path}: a $($base.GetType().FullName) became a $($Remoted.PSObject.TypeNames[0])"
        }
        # Every public property, so properties added to a type later are checked too.
        foreach ($property in $base.GetType().GetProperties()) {
            if (-not $Remoted.PSObject.Properties[$property.Name]) { "$Path.$($property.Name): missing"; continue }
            Get-ShapeDifference $property.GetValue($base) $Remoted.($property.Name) "$Path.$($property.Name)"
        }
    }
}

Describe 'LeakTools objects through remoting''s serializer' {
    It 'brings a MemoryLeak back with its stack as frames and Lost as its counters' {
        $remoted = ConvertTo-Remoted $periodic[0]
        $remoted.Stack[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.LeakTools.Model.StackFrame'
        $remoted.Stack[0].Symbol | Should -Be $periodic[0].Stack[0].Symbol
        $remoted.Stack[0].Offset | Should -BeOfType [uint64]
        $remoted.Lost.PSObject.TypeNames[0] | Should -Be 'Deserialized.LeakTools.Model.TraceLoss'
        $remoted.Lost.MissedReturns | Should -BeOfType [uint64]
    }

    It 'brings objects of every type back with every property and value' {
        $differences = foreach ($type in $samples.Keys) {
            $samples[$type].Count | Should -BeGreaterThan 0 -Because "the test has $type objects to send"
            Get-ShapeDifference $samples[$type] @(ConvertTo-Remoted $samples[$type]) $type
        }
        @($differences) | Should -BeNullOrEmpty
    }

    It 'lets Where-Object compare enum properties of remoted objects by name' {
        $remoted = @(ConvertTo-Remoted $samples.MemoryMapping)
        @($remoted | Where-Object Kind -EQ File).Count | Should -Be @($samples.MemoryMapping | Where-Object Kind -EQ File).Count
        @($remoted | Where-Object Kind -EQ File).Count | Should -BeGreaterThan 0
    }

    It 'shows the host a remoted object came from' {
        $remoted = @(ConvertTo-Remoted $samples.MemoryMapping)
        # What Invoke-Command adds to every object it brings back.
        $remoted | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'db01'
        $remoted | Add-Member -NotePropertyName PSShowComputerName -NotePropertyValue $true
        $remoted | Out-String | Should -Match "Process: $PID \(\S+\) on db01"
        $remoted = @(ConvertTo-Remoted $periodic)
        $remoted | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'db01'
        $remoted | Add-Member -NotePropertyName PSShowComputerName -NotePropertyValue $true
        $text = $remoted | Out-String -Width 300
        $text | Should -Match 'Report: 1 at .* on db01'
        $text | Should -Match 'PSComputerName'
    }

    It 'draws remoted leaks and events exactly as live ones (folded stacks, byte for byte)' {
        foreach ($name in 'MemoryLeak', 'AllocationEvent') {
            $livePath = Join-Path $TestDrive "$name-live.folded"
            $remotedPath = Join-Path $TestDrive "$name-remoted.folded"
            $samples[$name] | Export-FlameGraph -Path $livePath -Format Folded
            ConvertTo-Remoted $samples[$name] | Export-FlameGraph -Path $remotedPath -Format Folded
            [Convert]::ToHexString([IO.File]::ReadAllBytes($remotedPath)) | Should -Be ([Convert]::ToHexString([IO.File]::ReadAllBytes($livePath)))
        }
    }

    It 'merges frames given as text by function, without their +0x offsets' {
        $path = Join-Path $TestDrive 'text.folded'
        @(
            [pscustomobject]@{ ProcessName = 'app'; Bytes = 100; Count = 1; Stack = @('make+0x83', 'main+0x1c') }
            [pscustomobject]@{ ProcessName = 'app'; Bytes = 50; Count = 1; Stack = @('make+0x8b', 'main+0x1c') }
            [pscustomobject]@{ ProcessName = 'app'; Bytes = 7; Count = 1; Stack = @('0x7f00001234', 'operator+') }
        ) | Export-FlameGraph -Path $path -Format Folded
        @(Get-Content -LiteralPath $path) | Should -Be @('app;main;make 150', 'app;operator+;0x7f00001234 7')
    }
}

Describe 'What a report says about itself' {
    BeforeAll {
        $script:first = @($periodic | Where-Object ReportIndex -EQ 1)
        $script:second = @($periodic | Where-Object ReportIndex -EQ 2)
    }

    It 'numbers the reports of a trace' {
        $first.Count | Should -BeGreaterThan 0
        $second.Count | Should -BeGreaterThan 0
        ($first + $second).Count | Should -Be $periodic.Count
        @($first.Timestamp | Select-Object -Unique).Count | Should -Be 1
        $second[0].Timestamp | Should -BeGreaterThan $first[0].Timestamp
    }

    It 'gives the window of allocations each report counts: from the trace start to -OlderThan before the report' {
        foreach ($leak in $periodic) {
            $start = $leak.Timestamp - $leak.TraceDuration
            [math]::Abs(($leak.WindowStart - $start).TotalMilliseconds) | Should -BeLessThan 5
            [math]::Abs(($leak.Timestamp - $leak.WindowEnd).TotalMilliseconds - 500) | Should -BeLessThan 5
            $leak.BytesPerSecond | Should -BeGreaterThan 0
            $leak.BytesPerSecond | Should -BeLessOrEqual ($leak.Bytes / ($leak.WindowEnd - $leak.WindowStart).TotalSeconds * 1.01)
            $leak.BytesPerSecond | Should -BeGreaterOrEqual ($leak.Bytes / ($leak.WindowEnd - $leak.WindowStart).TotalSeconds * 0.99)
        }
        $second[0].WindowStart | Should -Be $first[0].WindowStart -Because 'both reports count from the start of the trace'
        $second[0].WindowEnd | Should -BeGreaterThan $first[0].WindowEnd
    }

    It 'groups periodic reports by report in the default view' {
        $periodic[0].PSObject.TypeNames[0] | Should -Be 'LeakTools.Model.MemoryLeak#Periodic'
        $text = $periodic | Out-String -Width 300
        ConvertTo-Remoted $periodic | Out-String -Width 300 | Should -BeExactly $text
        $header = 'Report: {0} at {1:HH:mm:ss.f}, allocations made {2:HH:mm:ss.f} to {3:HH:mm:ss.f}'
        ([regex]::Matches($text, [regex]::Escape(($header -f 1, $first[0].Timestamp, $first[0].WindowStart, $first[0].WindowEnd)))).Count | Should -Be 1
        ([regex]::Matches($text, [regex]::Escape(($header -f 2, $second[0].Timestamp, $second[0].WindowStart, $second[0].WindowEnd)))).Count | Should -Be 1
    }

    It 'shows a single report without report headers' {
        $single = [LeakTools.Model.MemoryLeak]@{ ProcessId = 42; Bytes = 8192; Count = 1; StackText = 'fibonacci+0x1c'; ReportIndex = 1 }
        $single | Out-String | Should -Not -Match 'Report'
    }

    It 'shows stack frames with their offsets in hex' {
        $leak = $periodic | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' } | Select-Object -First 1
        $frame = $leak.Stack[0]
        $frame.File | Should -BeLike '*leak_sites.c'
        $text = $leak.Stack | Out-String -Width 300
        ConvertTo-Remoted $leak.Stack | Out-String -Width 300 | Should -BeExactly $text
        $lines = @($text -split "`n" | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^Symbol\s+Offset\s+Module\s+ModuleOffset\s+Source'
        $lines[2] | Should -Match ('^{0}\s+0x{1:x}\s+{2}\s+0x{3:x}\s' -f [regex]::Escape($frame.Symbol), $frame.Offset, [regex]::Escape($frame.Module), $frame.ModuleOffset)
        $lines[2] | Should -Match ('\sleak_sites\.c:{0}\s*$' -f $frame.Line)
    }
}
