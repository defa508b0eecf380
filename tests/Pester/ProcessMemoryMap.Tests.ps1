BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/ProcfsTestHelpers.ps1"

    $sleeper, $odd = Start-SleepFixtures
    $missingPid = 2147483000
}

AfterAll {
    Stop-ProcfsTestProcess
}

Describe 'Get-ProcessMemoryMap' {
    Context 'a quiescent process compared with /proc/PID/maps and pmap -x' {
        BeforeAll {
            $maps = @(Get-ProcessMemoryMap -Id $sleeper.Id)
            $procMaps = @(Get-Content "/proc/$($sleeper.Id)/maps")
            $pmap = Get-PmapX $sleeper.Id
        }

        It 'returns one typed object per line of /proc/PID/maps' {
            $maps[0] | Should -BeOfType LeakTools.Model.MemoryMapping
            $maps.Count | Should -Be $procMaps.Count
        }

        It 'has as many mappings as pmap -x' {
            $maps.Count | Should -Be $pmap.Rows.Count
        }

        It 'totals the same size, RSS and dirty as pmap -x' {
            ($maps | Measure-Object Size -Sum).Sum / 1KB | Should -Be $pmap.Total.Kbytes
            ($maps | Measure-Object Rss -Sum).Sum / 1KB | Should -Be $pmap.Total.Rss
            ($maps | Measure-Object Dirty -Sum).Sum / 1KB | Should -Be $pmap.Total.Dirty
        }

        It 'matches pmap -x row by row: address, size, RSS, dirty, mode' {
            for ($i = 0; $i -lt $maps.Count; $i++) {
                $m = $maps[$i]; $row = $pmap.Rows[$i]
                $m.Start.ToString('x16') | Should -Be $row.Address
                $m.Size / 1KB | Should -Be $row.Kbytes
                $m.Rss / 1KB | Should -Be $row.Rss
                $m.Dirty / 1KB | Should -Be $row.Dirty
                $m.Permissions.Substring(0, 3) | Should -Be $row.Mode.Substring(0, 3)
            }
        }

        It 'has the addresses, permissions, offset, device, inode and path of /proc/PID/maps' {
            for ($i = 0; $i -lt $maps.Count; $i++) {
                $fields = $procMaps[$i] -split '\s+', 6
                $range = $fields[0] -split '-'
                $maps[$i].Start | Should -Be ([Convert]::ToUInt64($range[0], 16))
                $maps[$i].End | Should -Be ([Convert]::ToUInt64($range[1], 16))
                $maps[$i].Permissions | Should -Be $fields[1]
                $maps[$i].Offset | Should -Be ([Convert]::ToUInt64($fields[2], 16))
                $maps[$i].Device | Should -Be $fields[3]
                $maps[$i].Inode | Should -Be ([uint64]$fields[4])
                $maps[$i].Path | Should -Be ($fields.Count -gt 5 ? $fields[5].Trim() : '')
                $maps[$i].ProcessId | Should -Be $sleeper.Id
                $maps[$i].ProcessName | Should -Be 'sleep'
            }
        }

        It 'has the Pss that pmap -XX shows' {
            # Pss of a page shared with other processes moves whenever another process maps it (pmap itself
            # does, while it reads), so only mappings no other process shares must agree exactly; the totals
            # must both lie between the private and the resident bytes.
            $ours = Get-ProcessMemoryMap -Id $sleeper.Id
            $lines = & pmap -XX $sleeper.Id
            $header = $lines[1].Trim() -split '\s+'
            $column = @{}
            foreach ($name in 'Address', 'Rss', 'Pss', 'Shared_Clean', 'Shared_Dirty') { $column[$name] = [array]::IndexOf($header, $name) }
            $rows = foreach ($line in $lines[2..($lines.Count - 1)]) {
                if ($line -notmatch '^\s+[0-9a-f]+ ') { continue }
                $f = $line.Trim() -split '\s+'
                [pscustomobject]@{
                    Start  = [Convert]::ToUInt64($f[$column.Address], 16)
                    Pss    = [long]$f[$column.Pss]
                    Shared = [long]$f[$column.Shared_Clean] + [long]$f[$column.Shared_Dirty]
                }
            }
            $rows.Count | Should -Be $ours.Count
            $private = @($rows | Where-Object Shared -EQ 0)
            $private.Count | Should -BeGreaterThan 0
            $compared = 0
            foreach ($row in $private) {
                $mapping = $ours | Where-Object Start -EQ $row.Start
                if ($mapping.SharedClean + $mapping.SharedDirty -eq 0) { $mapping.Pss / 1KB | Should -Be $row.Pss; $compared++ }
            }
            $compared | Should -BeGreaterThan 0
            $rss = ($ours | Measure-Object Rss -Sum).Sum / 1KB
            $privateBytes = ($ours | ForEach-Object { $_.PrivateClean + $_.PrivateDirty } | Measure-Object -Sum).Sum / 1KB
            $oursPss = ($ours | Measure-Object Pss -Sum).Sum / 1KB
            $pmapPss = ($rows | Measure-Object Pss -Sum).Sum
            foreach ($total in $oursPss, $pmapPss) {
                $total | Should -BeGreaterOrEqual $privateBytes
                $total | Should -BeLessOrEqual $rss
            }
        }

        It 'names the kind of each mapping' {
            ($maps | Where-Object Path -eq '[heap]').Kind | Should -Be 'Heap'
            ($maps | Where-Object Path -eq '[stack]').Kind | Should -Be 'Stack'
            ($maps | Where-Object Path -eq '[vdso]').Kind | Should -Be 'Vdso'
            ($maps | Where-Object Path -like '*/sleep' | Select-Object -First 1).Kind | Should -Be 'File'
            ($maps | Where-Object Path -eq '' | Select-Object -First 1).Kind | Should -Be 'Anonymous'
        }

        It 'carries every smaps field, VmFlags included' {
            $heap = $maps | Where-Object Kind -eq 'Heap'
            $heap.VmFlags | Should -Match '\brd\b.*\bwr\b'
            $heap.KernelPageSize | Should -Be ([Environment]::SystemPageSize)
            $heap.PrivateDirty | Should -Not -BeNullOrEmpty
            $heap.Swap | Should -Be 0
            $heap.Locked | Should -Be 0
            $smapsFields = (Get-Content "/proc/$($sleeper.Id)/smaps" | Where-Object { $_ -match '^[A-Z]\w*:' } |
                ForEach-Object { ($_ -split ':')[0] } | Sort-Object -Unique)
            $named = 'Size', 'KernelPageSize', 'MMUPageSize', 'Rss', 'Pss', 'Pss_Dirty', 'Shared_Clean', 'Shared_Dirty',
                'Private_Clean', 'Private_Dirty', 'Referenced', 'Anonymous', 'KSM', 'LazyFree', 'AnonHugePages',
                'ShmemPmdMapped', 'FilePmdMapped', 'Shared_Hugetlb', 'Private_Hugetlb', 'Swap', 'SwapPss', 'Locked',
                'THPeligible', 'ProtectionKey', 'VmFlags'
            foreach ($field in $smapsFields | Where-Object { $_ -notin $named }) {
                $heap.OtherFields.Keys | Should -Contain $field
            }
        }
    }

    It 'binds process objects piped from Get-Process' {
        $maps = Get-Process -Id $sleeper.Id | Get-ProcessMemoryMap
        @($maps).Count | Should -Be @(Get-Content "/proc/$($sleeper.Id)/maps").Count
    }

    It 'reads a process whose name has spaces and parentheses' {
        $maps = @(Get-ProcessMemoryMap -Name 'my (odd) proc')
        $maps.Count | Should -Be @(Get-Content "/proc/$($odd.Id)/maps").Count
        $maps[0].ProcessName | Should -Be 'my (odd) proc'
        $maps.Path | Should -Contain (Join-Path $TestDrive 'my (odd) proc')
    }

    It 'reports PermissionDenied with a remedy for another user''s process without root' {
        $foreign = Start-ForeignProcess
        $result = Invoke-Unprivileged @"
`$maps = Get-ProcessMemoryMap -Id $($foreign.Id) -ErrorVariable err -ErrorAction SilentlyContinue
[pscustomobject]@{
    Count = @(`$maps).Count
    Id = `$err[0].FullyQualifiedErrorId
    Category = `$err[0].CategoryInfo.Category.ToString()
    Target = `$err[0].TargetObject
    Action = `$err[0].ErrorDetails.RecommendedAction
    Errors = `$err.Count
} | ConvertTo-Json
"@
        $result.Count | Should -Be 0
        $result.Errors | Should -Be 1
        $result.Id | Should -Be 'ProcessAccessDenied,LeakTools.Commands.GetProcessMemoryMapCommand'
        $result.Category | Should -Be 'PermissionDenied'
        $result.Target | Should -Be $foreign.Id
        $result.Action | Should -Match 'root'
    }

    It 'shows pmap -x''s columns by default' {
        $text = (Get-ProcessMemoryMap -Id $sleeper.Id | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() }
        $header = $text | Where-Object { $_ -match 'Address' } | Select-Object -First 1
        $header.Trim() -split '\s+' | Should -Be @('Address', 'Kbytes', 'RSS', 'Dirty', 'Mode', 'Mapping')
        $first = (Get-PmapX $sleeper.Id).Rows[0]
        $row = $text | Where-Object { $_ -match "^$($first.Address)" }
        $row.Trim() -split '\s+' | Should -Be @($first.Address, $first.Kbytes, $first.Rss, $first.Dirty, $first.Mode, $first.Mapping)
    }

    It 'declares its output type' {
        (Get-Command Get-ProcessMemoryMap).OutputType.Type | Should -Be ([LeakTools.Model.MemoryMapping])
    }
}
