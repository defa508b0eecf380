# Compare-MemoryLeak and Export-MemoryProfile on real Find-MemoryLeak output: two traced runs of the PIE leak_sites
# fixture (so ASLR loads it at other addresses each time), a short and a longer one, shared by every test here.
# The pprof output is decoded apart from the encoder: Python's protobuf package with classes protoc generates
# from the published schema (src/LeakCmdlets/Export/profile.proto).

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"

    $script:Sites = 'leak_malloc', 'leak_calloc', 'leak_realloc', 'leak_posix_memalign', 'leak_aligned_alloc', 'leak_mmap'
    $program = Join-Path $FixtureDir 'leak_sites_pie'
    $script:Before = @(Find-MemoryLeak -Command $program, '0.4' -OlderThan 0)
    $script:After = @(Find-MemoryLeak -Command $program, '1.6' -OlderThan 0)

    # Debian's python3 carries python3-protobuf, whatever python3 comes first on PATH.
    $script:Python = '/usr/bin/python3'
    $script:SchemaDir = Resolve-Path "$PSScriptRoot/../../src/LeakCmdlets/Export"
    $script:DecoderDir = Join-Path $TestDrive 'decoder'
    New-Item -ItemType Directory -Path $DecoderDir | Out-Null
    & protoc -I $SchemaDir --python_out $DecoderDir profile.proto
    if ($LASTEXITCODE -ne 0) { throw 'protoc --python_out failed.' }
    Set-Content -LiteralPath (Join-Path $DecoderDir 'decode.py') -Value @'
import gzip, sys
from google.protobuf import json_format
import profile_pb2
profile = profile_pb2.Profile()
with gzip.open(sys.argv[1], 'rb') as f:
    profile.ParseFromString(f.read())
print(json_format.MessageToJson(profile, preserving_proto_field_name=True))
'@

    # The decoded profile, with its string indexes resolved.
    function Read-Profile([string] $Path) {
        $json = & $Python (Join-Path $DecoderDir 'decode.py') $Path
        if ($LASTEXITCODE -ne 0) { throw "decoding $Path failed" }
        $p = ($json -join "`n") | ConvertFrom-Json
        $s = $p.string_table
        $functions = @{}; foreach ($f in $p.function) { $functions[[ulong]$f.id] = $f }
        $locations = @{}; foreach ($l in $p.location) { $locations[[ulong]$l.id] = $l }
        $mappingList = @($p.mapping | ForEach-Object {
            [pscustomobject]@{ Id = [ulong]$_.id; File = $s[[int]$_.filename]; BuildId = $s[[int]$_.build_id]
                               Start = [ulong]$_.memory_start; Limit = [ulong]$_.memory_limit; HasFunctions = [bool]$_.has_functions } })
        $mappings = @{}; foreach ($m in $mappingList) { $mappings[$m.Id] = $m }
        [pscustomobject]@{
            Raw         = $p
            Strings     = $s
            SampleTypes = @($p.sample_type | ForEach-Object { '{0}/{1}' -f $s[[int]$_.type], $s[[int]$_.unit] })
            Default     = $s[[int]$p.default_sample_type]
            Mappings    = $mappingList
            Samples     = @($p.sample | ForEach-Object {
                $frames = foreach ($id in $_.location_id) {
                    $location = $locations[[ulong]$id]
                    $function = $functions[[ulong]$location.line[0].function_id]
                    [pscustomobject]@{
                        Address  = [ulong]$location.address
                        Mapping  = $mappings[[ulong]$location.mapping_id]
                        Function = $s[[int]$function.name]
                        File     = $s[[int]$function.filename]
                        Line     = [long]$location.line[0].line
                    }
                }
                $labels = @{}; foreach ($l in $_.label) { $labels[$s[[int]$l.key]] = if ($l.str) { $s[[int]$l.str] } else { [long]$l.num } }
                [pscustomobject]@{ Count = [long]$_.value[0]; Bytes = [long]$_.value[1]; Frames = @($frames); Labels = $labels }
            })
        }
    }

    # The frames as module!symbol, the way a stack is told apart across runs, written out here independently.
    function Get-StackName($Stack) { ($Stack | ForEach-Object { "$($_.Module)!$($_.Symbol)" }) -join ';' }

    # What a set holds for one stack, summed over the set's leaks with the same frames.
    function Get-StackTotal($Leaks, $Stack) {
        $name = Get-StackName $Stack
        $same = @($Leaks | Where-Object { (Get-StackName $_.Stack) -eq $name })
        [pscustomobject]@{ Bytes = [long]($same | Measure-Object Bytes -Sum).Sum; Count = [long]($same | Measure-Object Count -Sum).Sum }
    }

    # An array's own Address() method hides the frames' Address properties from member enumeration.
    function Get-AddressText($Frames) { ($Frames | ForEach-Object Address) -join ';' }

    # The biggest leak of a site (direct caller).
    function Get-SiteLeak($Leaks, [string] $Site) { $Leaks | Where-Object { $_.Stack[0].Symbol -eq $Site } | Sort-Object Bytes -Descending | Select-Object -First 1 }
}

Describe 'Compare-MemoryLeak on two traced runs' {
    BeforeAll {
        $script:changes = @(Compare-MemoryLeak -ReferenceObject $Before -DifferenceObject $After)
    }

    It 'matches every leak site across the runs although ASLR moved its addresses, and flags it Grown with both sides' {
        (Get-SiteLeak $Before leak_malloc).Stack[0].Address | Should -Not -Be (Get-SiteLeak $After leak_malloc).Stack[0].Address
        foreach ($site in $Sites) {
            # A site's full stack; under load a few of its allocations may keep a shorter stack, which is another row.
            $change = $changes | Where-Object { $_.Stack[0].Symbol -eq $site } | Sort-Object DifferenceBytes -Descending | Select-Object -First 1
            $change.Change | Should -Be 'Grown' -Because "$site leaks on both sides, more in the longer run"
            $reference = Get-StackTotal $Before $change.Stack
            $difference = Get-StackTotal $After $change.Stack
            $reference.Bytes | Should -BeGreaterThan 0
            $change.ReferenceBytes | Should -Be $reference.Bytes
            $change.DifferenceBytes | Should -Be $difference.Bytes
            $change.BytesDelta | Should -Be ($difference.Bytes - $reference.Bytes)
            $change.ReferenceCount | Should -Be $reference.Count
            $change.CountDelta | Should -Be ($difference.Count - $reference.Count)
            $change.ProcessName | Should -Be 'leak_sites_pie'
        }
    }

    It 'emits the biggest growth first' {
        $deltas = @($changes.BytesDelta)
        $deltas | Should -Be @($deltas | Sort-Object -Descending)
        # Of the leak sites, the 16 KiB mmaps grow most.
        ($changes | Where-Object { $_.Stack[0].Symbol -in $Sites } | Select-Object -First 1).Stack[0].Symbol | Should -Be 'leak_mmap'
    }

    It 'leaves out stacks that hold the same unless -IncludeEqual' {
        @(Compare-MemoryLeak $After $After) | Should -BeNullOrEmpty
        $equal = @(Compare-MemoryLeak $After $After -IncludeEqual)
        $equal.Count | Should -Be @($After | ForEach-Object { Get-StackName $_.Stack } | Sort-Object -Unique).Count
        $equal.Change | Sort-Object -Unique | Should -Be 'Unchanged'
        foreach ($e in $equal) { $e.BytesDelta | Should -Be 0; $e.ReferenceBytes | Should -Be $e.DifferenceBytes; $e.ReferenceBytes | Should -BeGreaterThan 0 }
    }

    It 'gives the same result for sets saved with Export-Clixml and imported again' {
        $Before | Export-Clixml -LiteralPath (Join-Path $TestDrive 'before.xml')
        $After | Export-Clixml -LiteralPath (Join-Path $TestDrive 'after.xml')
        $imported = Import-Clixml (Join-Path $TestDrive 'after.xml')
        $imported[0].Stack[0] | Should -Not -BeOfType [LeakTools.Model.StackFrame]
        $fromFiles = @($imported | Compare-MemoryLeak (Import-Clixml (Join-Path $TestDrive 'before.xml')))
        $columns = 'Change', 'ProcessName', 'ReferenceBytes', 'DifferenceBytes', 'BytesDelta', 'ReferenceCount', 'DifferenceCount', 'CountDelta', 'StackText'
        ($fromFiles | Select-Object $columns | ConvertTo-Json) | Should -Be ($changes | Select-Object $columns | ConvertTo-Json)
    }

    It 'shows a table sorted by growth, with signed deltas' {
        $lines = @(($changes | Out-String -Width 250) -split "`n" | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^Change\s+Process\s+BytesDelta\s+Reference\s+Difference\s+CountDelta\s+Stack'
        $first = $changes[0]
        $cells = $first.Change, 'leak_sites_pie', ('{0:+#;-#;0}' -f $first.BytesDelta), $first.ReferenceBytes, $first.DifferenceBytes,
            ('{0:+#;-#;0}' -f $first.CountDelta), $first.StackText.Substring(0, [Math]::Min(20, $first.StackText.Length))
        $lines[2] | Should -Match ('^' + (($cells | ForEach-Object { [regex]::Escape("$_") }) -join '\s+'))
    }
}

Describe 'Compare-MemoryLeak stack matching and input' {
    BeforeAll {
        function New-Frame([string] $Symbol, [string] $Module, [ulong] $ModuleOffset, [ulong] $Base = 0x550000000000) {
            [pscustomobject]@{ Symbol = $Symbol; Offset = 0x10; Module = $Module; ModuleOffset = $ModuleOffset; Address = $Base + $ModuleOffset }
        }
        function New-Leak([string] $Name = 'svc', [long] $Bytes, [long] $Count, [object[]] $Stack) {
            [pscustomobject]@{ ProcessId = 7; ProcessName = $Name; Bytes = $Bytes; Count = $Count; Stack = $Stack }
        }
    }

    It 'flags New and Gone stacks and matches unnamed frames by module and offset in the module, not by address' {
        $hostA = @(
            New-Leak -Bytes 100 -Count 1 -Stack (New-Frame $null libx.so 0x2100), (New-Frame main svc 0x1000)
            New-Leak -Bytes 500 -Count 5 -Stack (New-Frame retired svc 0x1400), (New-Frame main svc 0x1000))
        $hostB = @(
            New-Leak -Bytes 300 -Count 3 -Stack (New-Frame $null libx.so 0x2100 -Base 0x7f0000000000), (New-Frame main svc 0x1000 -Base 0x7f0000000000)
            New-Leak -Bytes 800 -Count 8 -Stack (New-Frame $null libx.so 0x2200), (New-Frame main svc 0x1000))
        $result = @(Compare-MemoryLeak $hostA $hostB)
        $result.Change | Should -Be 'New', 'Grown', 'Gone'
        $result.BytesDelta | Should -Be 800, 200, -500
        $result[1].StackText | Should -Be 'libx.so+0x2100 ← main+0x10'
        $result[2].ReferenceCount | Should -Be 5
        $result[2].DifferenceCount | Should -Be 0
    }

    It 'takes a set that arrives as one collection object (a remoted array)' {
        $leak = New-Leak -Bytes 100 -Count 1 -Stack (New-Frame leak svc 0x1000)
        $asOne = [System.Collections.ArrayList]::new(@($leak, (New-Leak -Bytes 50 -Count 1 -Stack (New-Frame other svc 0x2000))))
        $result = @(Compare-MemoryLeak -ReferenceObject (, $asOne) -DifferenceObject $leak)
        $result.Count | Should -Be 1
        $result[0].Change | Should -Be 'Gone'
        $result[0].Stack[0].Symbol | Should -Be 'other'
    }

    It 'reads frames that were flattened to text ("main+0x1c")' {
        $before = New-Leak -Bytes 100 -Count 1 -Stack 'grow+0x1c', 'main+0x3a'
        $after = New-Leak -Bytes 400 -Count 4 -Stack 'grow+0x24', 'main+0x40'
        $result = @(Compare-MemoryLeak $before $after)
        $result.Count | Should -Be 1
        $result[0].Change | Should -Be 'Grown'
        $result[0].Stack[0].Symbol | Should -Be 'grow'
    }

    It 'writes one NotAMemoryLeak error per bad object and compares the rest' {
        $good = New-Leak -Bytes 100 -Count 1 -Stack (New-Frame leak svc 0x1000)
        $event = [pscustomobject]@{ ProcessId = 7; Size = 64; Stack = @((New-Frame leak svc 0x1000)) }
        $result = @(Compare-MemoryLeak -ReferenceObject @() -DifferenceObject $good, 'text', $event -ErrorVariable err -ErrorAction SilentlyContinue)
        $result.Count | Should -Be 1
        $result[0].Change | Should -Be 'New'
        $err.Count | Should -Be 2
        $err[0].FullyQualifiedErrorId | Should -Be 'NotAMemoryLeak,LeakTools.Commands.CompareMemoryLeakCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -Be 'text'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'Find-MemoryLeak'
        $err[1].Exception.Message | Should -Match 'no Bytes or Count properties'
        $err[1].TargetObject.Size | Should -Be 64
    }
}

Describe 'Export-MemoryProfile on a traced run' {
    BeforeAll {
        $script:pb = Join-Path $TestDrive 'after.pb.gz'
        $script:file = $After | Export-MemoryProfile -Path $pb -PassThru
        $script:decoded = Read-Profile $pb
        $script:fixture = Join-Path $FixtureDir 'leak_sites_pie'
        $script:fixtureBuildId = ((& readelf -n $fixture) | Select-String 'Build ID:\s*([0-9a-f]+)').Matches[0].Groups[1].Value
    }

    It 'writes a gzipped perftools.profiles.Profile with the heap sample types, inuse_space by default' {
        $file.FullName | Should -Be $pb
        $bytes = [IO.File]::ReadAllBytes($pb)
        $bytes[0..1] | Should -Be 0x1f, 0x8b
        $decoded.Strings[0] | Should -Be ''
        $decoded.SampleTypes | Should -Be 'inuse_objects/count', 'inuse_space/bytes'
        $decoded.Default | Should -Be 'inuse_space'
    }

    It 'has one sample per leak, whose values add up to the report' {
        $decoded.Samples.Count | Should -Be $After.Count
        ($decoded.Samples | Measure-Object Bytes -Sum).Sum | Should -Be ($After | Measure-Object Bytes -Sum).Sum
        ($decoded.Samples | Measure-Object Count -Sum).Sum | Should -Be ($After | Measure-Object Count -Sum).Sum
        foreach ($leak in $After) {
            $sample = @($decoded.Samples | Where-Object { (Get-AddressText $_.Frames) -eq (Get-AddressText $leak.Stack) })
            $sample.Count | Should -Be 1
            $sample[0].Bytes | Should -Be $leak.Bytes
            $sample[0].Count | Should -Be $leak.Count
            $sample[0].Labels['pid'] | Should -Be $leak.ProcessId
            $sample[0].Labels['process'] | Should -Be 'leak_sites_pie'
        }
    }

    It 'gives each frame its address, its module''s mapping with the build-id, and its function''s file and line' {
        $leak = Get-SiteLeak $After leak_malloc
        $sample = $decoded.Samples | Where-Object { (Get-AddressText $_.Frames) -eq (Get-AddressText $leak.Stack) }
        $sample.Frames[0].Function | Should -Be 'leak_malloc'
        for ($i = 0; $i -lt $leak.Stack.Count; $i++) {
            $frame = $sample.Frames[$i]
            $frame.Address | Should -Be $leak.Stack[$i].Address
            $frame.Mapping.File | Should -Be $leak.Stack[$i].ModulePath
            $frame.Mapping.Start | Should -BeLessOrEqual $frame.Address
            $frame.Mapping.Limit | Should -BeGreaterThan $frame.Address
        }
        $sample.Frames[0].File | Should -Match 'leak_sites\.c$'
        $sample.Frames[0].Line | Should -BeGreaterThan 0
        $sample.Frames[0].Line | Should -Be $leak.Stack[0].Line
        $sample.Frames[0].Mapping.BuildId | Should -Be $fixtureBuildId
        $sample.Frames[0].Mapping.HasFunctions | Should -BeTrue
        # pprof takes the first mapping for the main binary.
        $decoded.Mappings[0].File | Should -Be $sample.Frames[0].Mapping.File
        $libc = $sample.Frames | Where-Object { $_.Mapping.File -match '/libc\.so\.6$' } | Select-Object -First 1
        $libc.Mapping.BuildId | Should -Match '^[0-9a-f]{40}$'
    }

    It 'writes the same profile from objects saved with Export-Clixml and imported again' {
        $After | Export-Clixml -LiteralPath (Join-Path $TestDrive 'profile-input.xml')
        $copy = Join-Path $TestDrive 'imported.pb.gz'
        Import-Clixml (Join-Path $TestDrive 'profile-input.xml') | Export-MemoryProfile -Path $copy
        (Read-Profile $copy).Raw | ConvertTo-Json -Depth 10 | Should -Be ($decoded.Raw | ConvertTo-Json -Depth 10)
    }

    It 'takes an array given to -InputObject element by element' {
        $path = Join-Path $TestDrive 'parameter.pb.gz'
        Export-MemoryProfile -InputObject $After -Path $path
        (Read-Profile $path).Samples.Count | Should -Be $After.Count
    }

    It 'counts a process''s latest report only, when reports of -Interval/-Count come together' {
        $earlier = $Before | ForEach-Object { $c = [LeakTools.Model.MemoryLeak]::new(); foreach ($p in $_.PSObject.Properties) { $c.($p.Name) = $p.Value }; $c.ProcessId = $After[0].ProcessId; $c.Timestamp = $After[0].Timestamp.AddSeconds(-5); $c }
        $path = Join-Path $TestDrive 'periodic.pb.gz'
        @($earlier) + $After | Export-MemoryProfile -Path $path
        ((Read-Profile $path).Samples | Measure-Object Bytes -Sum).Sum | Should -Be ($After | Measure-Object Bytes -Sum).Sum
    }
}

Describe 'Export-MemoryProfile errors' {
    It 'writes one NotAMemoryLeak error per bad object and exports the rest' {
        $path = Join-Path $TestDrive 'partial.pb.gz'
        $After[0], 42, $After[1] | Export-MemoryProfile -Path $path -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'NotAMemoryLeak,LeakTools.Commands.ExportMemoryProfileCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -Be 42
        (Read-Profile $path).Samples.Count | Should -Be 2
    }

    It 'stops with MemoryProfileInputEmpty when nothing usable came' {
        $path = Join-Path $TestDrive 'empty.pb.gz'
        $err = { 'a', 'b' | Export-MemoryProfile -Path $path -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'MemoryProfileInputEmpty,LeakTools.Commands.ExportMemoryProfileCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $path | Should -Not -Exist
    }

    It 'stops with MemoryProfilePathNotWritable before reading input when the directory is missing' {
        $path = Join-Path $TestDrive 'no-such-dir/leaks.pb.gz'
        $err = { $After | Export-MemoryProfile -Path $path } |
            Should -Throw -ErrorId 'MemoryProfilePathNotWritable,LeakTools.Commands.ExportMemoryProfileCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'WriteError'
        $err.TargetObject | Should -Be $path
        $err.ErrorDetails.RecommendedAction | Should -Match 'existing directory'
    }
}
