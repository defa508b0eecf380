BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force

    function New-Frame([string] $Symbol, [string] $Module = 'app', [ulong] $ModuleOffset = 0x1000, [switch] $Kernel) {
        [LeakTools.Model.StackFrame]@{ Symbol = $Symbol; Module = $Module; ModuleOffset = $ModuleOffset; Address = 0x5500000000 + $ModuleOffset; IsKernel = [bool]$Kernel }
    }

    # Shaped like MemoryLeak: Stack is innermost first.
    function New-Leak([int] $ProcessId = 4242, [string] $ProcessName = 'app', [long] $Bytes, [long] $Count, [object[]] $Stack) {
        [pscustomobject]@{ ProcessId = $ProcessId; ProcessName = $ProcessName; Bytes = $Bytes; Count = $Count; Stack = $Stack }
    }

    function Get-SvgFrame([string] $Path) {
        $doc = [xml](Get-Content -LiteralPath $Path -Raw)
        $ns = [System.Xml.XmlNamespaceManager]::new($doc.NameTable)
        $ns.AddNamespace('s', 'http://www.w3.org/2000/svg')
        foreach ($g in $doc.SelectNodes('//s:g[@class="frame"]', $ns)) {
            $rect = $g.SelectSingleNode('s:rect', $ns)
            [pscustomobject]@{
                Name   = $g.GetAttribute('data-name')
                Module = $g.GetAttribute('data-module')
                Kind   = $g.GetAttribute('data-kind')
                Depth  = [int]$g.GetAttribute('data-depth')
                Start  = [long]$g.GetAttribute('data-start')
                Value  = [long]$g.GetAttribute('data-value')
                Bytes  = [long]$g.GetAttribute('data-bytes')
                Count  = [long]$g.GetAttribute('data-count')
                Title  = $g.SelectSingleNode('s:title', $ns).InnerText
                X      = [double]$rect.GetAttribute('x')
                Y      = [double]$rect.GetAttribute('y')
                Width  = [double]$rect.GetAttribute('width')
            }
        }
    }

    $script:fibonacciLeak = New-Leak -Bytes 819200 -Count 100 -Stack @(
        (New-Frame fibonacci -ModuleOffset 0x1189), (New-Frame child -ModuleOffset 0x1210), (New-Frame start_thread -Module libc.so.6 -ModuleOffset 0x89134))
    $script:mainLeak = New-Leak -Bytes 204800 -Count 50 -Stack @(
        (New-Frame make_buffer -ModuleOffset 0x1300), (New-Frame main -ModuleOffset 0x1400), (New-Frame __libc_start_call_main -Module libc.so.6 -ModuleOffset 0x271ca))
}

Describe 'Export-FlameGraph SVG' {
    BeforeAll {
        $svg = Join-Path $TestDrive 'leaks.svg'
        $script:fibonacciLeak, $script:mainLeak | Export-FlameGraph -Path $svg -Title 'Demo leaks'
        $script:frames = @(Get-SvgFrame $svg)
        $script:svgText = Get-Content -LiteralPath $svg -Raw
    }

    It 'is well-formed SVG with the title and the totals on the root element' {
        $doc = [xml]$svgText
        $doc.DocumentElement.LocalName | Should -Be 'svg'
        $doc.DocumentElement.NamespaceURI | Should -Be 'http://www.w3.org/2000/svg'
        $doc.DocumentElement.GetAttribute('data-total') | Should -Be '1024000'
        $doc.DocumentElement.GetAttribute('data-total-count') | Should -Be '150'
        ($doc.DocumentElement.ChildNodes | Where-Object { $_.GetAttribute('id') -eq 'title' }).InnerText | Should -Be 'Demo leaks'
    }

    It 'has one frame per distinct path, plus the all and process roots' {
        $frames.Count | Should -Be 8
        ($frames | Where-Object Depth -EQ 0).Name | Should -Be 'all'
        ($frames | Where-Object Depth -EQ 1).Name | Should -Be 'app'
    }

    It 'weighs the root with the sum of all bytes and each frame with its stack''s bytes' {
        ($frames | Where-Object Name -EQ 'all').Value | Should -Be 1024000
        ($frames | Where-Object Name -EQ 'fibonacci').Value | Should -Be 819200
        ($frames | Where-Object Name -EQ 'fibonacci').Count | Should -Be 100
        ($frames | Where-Object Name -EQ 'make_buffer').Value | Should -Be 204800
    }

    It 'stacks callers below callees, outermost frame nearest the root' {
        $byName = @{}; $frames | ForEach-Object { $byName[$_.Name] = $_ }
        $byName['start_thread'].Depth | Should -Be 2
        $byName['child'].Depth | Should -Be 3
        $byName['fibonacci'].Depth | Should -Be 4
        # Root at the bottom, like flamegraph.pl: deeper frames sit higher (smaller y).
        $byName['fibonacci'].Y | Should -BeLessThan $byName['child'].Y
        $byName['child'].Y | Should -BeLessThan $byName['start_thread'].Y
        $byName['start_thread'].Y | Should -BeLessThan $byName['all'].Y
    }

    It 'makes frame widths proportional to bytes and nests children inside their parent' {
        $all = $frames | Where-Object Name -EQ 'all'
        $fib = $frames | Where-Object Name -EQ 'fibonacci'
        $mb = $frames | Where-Object Name -EQ 'make_buffer'
        ($fib.Width + 1) / ($all.Width + 1) | Should -BeGreaterThan 0.79
        ($fib.Width + 1) / ($all.Width + 1) | Should -BeLessThan 0.81
        ($fib.Width + 1) / ($mb.Width + 1) | Should -BeGreaterThan 3.9
        foreach ($f in $frames | Where-Object Depth -GT 0) {
            $parent = $frames | Where-Object { $_.Depth -eq $f.Depth - 1 -and $_.Start -le $f.Start -and $_.Start + $_.Value -ge $f.Start + $f.Value }
            @($parent).Count | Should -Be 1 -Because "$($f.Name) must sit on exactly one parent"
        }
    }

    It 'shows frame, bytes and percentage on hover' {
        ($frames | Where-Object Name -EQ 'fibonacci').Title | Should -Be 'fibonacci (app): 819,200 bytes, 100 allocations, 80.00%'
        ($frames | Where-Object Name -EQ 'start_thread').Module | Should -Be 'libc.so.6'
    }

    It 'embeds its script, style and search box and references nothing outside the file' {
        $svgText | Should -Match '<script type="text/ecmascript"><!\[CDATA\['
        $svgText | Should -Match '<style type="text/css"><!\[CDATA\['
        $svgText | Should -Match 'id="search"'
        $svgText | Should -Match "addEventListener\('click'"
        $svgText | Should -Not -Match '(href|src)\s*='
        $svgText | Should -Not -Match '@import|url\('
    }

    It 'draws an icicle graph with the root at the top' {
        $path = Join-Path $TestDrive 'icicle.svg'
        $script:fibonacciLeak | Export-FlameGraph -Path $path -Icicle
        $icicle = @(Get-SvgFrame $path)
        ($icicle | Where-Object Name -EQ 'all').Y | Should -BeLessThan ($icicle | Where-Object Name -EQ 'fibonacci').Y
    }

    It 'weighs by allocation count with -Weight Count' {
        $path = Join-Path $TestDrive 'count.svg'
        $script:fibonacciLeak, $script:mainLeak | Export-FlameGraph -Path $path -Weight Count
        $counted = @(Get-SvgFrame $path)
        ($counted | Where-Object Name -EQ 'all').Value | Should -Be 150
        ($counted | Where-Object Name -EQ 'main').Value | Should -Be 50
        ($counted | Where-Object Name -EQ 'main').Bytes | Should -Be 204800
        ([xml](Get-Content $path -Raw)).DocumentElement.GetAttribute('data-unit') | Should -Be 'allocations'
    }

    It 'merges equal paths and splits where stacks diverge' {
        $path = Join-Path $TestDrive 'merge.svg'
        $other = New-Leak -Bytes 100000 -Count 1 -Stack @((New-Frame other_site), (New-Frame child), (New-Frame start_thread -Module libc.so.6))
        $script:fibonacciLeak, $other, $script:fibonacciLeak | Export-FlameGraph -Path $path
        $merged = @(Get-SvgFrame $path)
        @($merged | Where-Object Name -EQ 'child').Count | Should -Be 1
        ($merged | Where-Object Name -EQ 'child').Value | Should -Be (2 * 819200 + 100000)
        ($merged | Where-Object Name -EQ 'fibonacci').Value | Should -Be (2 * 819200)
        ($merged | Where-Object Name -EQ 'other_site').Value | Should -Be 100000
    }

    It 'escapes names that are not XML-safe' {
        $path = Join-Path $TestDrive 'cpp.svg'
        New-Leak -Bytes 64 -Count 1 -Stack @((New-Frame 'std::vector<int, std::allocator<int> >::push_back&'), (New-Frame main)) |
            Export-FlameGraph -Path $path
        (Get-SvgFrame $path).Name | Should -Contain 'std::vector<int, std::allocator<int> >::push_back&'
    }

    It 'marks kernel frames like flamegraph.pl and colours them apart' {
        $path = Join-Path $TestDrive 'kernel.svg'
        New-Leak -ProcessName 'kernel' -Bytes 4096 -Count 4 -Stack @((New-Frame __kmalloc -Module '[kernel]' -Kernel), (New-Frame do_sys_open -Module '[kernel]' -Kernel)) |
            Export-FlameGraph -Path $path
        $k = Get-SvgFrame $path | Where-Object Name -EQ '__kmalloc_[k]'
        $k.Kind | Should -Be 'kernel'
        $k.Value | Should -Be 4096
    }
}

Describe 'Export-FlameGraph input read by property' {
    It 'draws deserialized MemoryLeak objects (Import-Clixml) the same as live ones' {
        $xmlPath = Join-Path $TestDrive 'leaks.clixml'
        $script:fibonacciLeak, $script:mainLeak | Export-Clixml -LiteralPath $xmlPath -Depth 4
        $imported = Import-Clixml -LiteralPath $xmlPath
        $imported[0].Stack[0] | Should -Not -BeOfType [LeakTools.Model.StackFrame]

        $live = Join-Path $TestDrive 'live.folded'
        $deserialized = Join-Path $TestDrive 'deserialized.folded'
        $script:fibonacciLeak, $script:mainLeak | Export-FlameGraph -Path $live -Format Folded
        $imported | Export-FlameGraph -Path $deserialized -Format Folded
        Get-Content $deserialized | Should -Be (Get-Content $live)
    }

    It 'draws frames given as property bags (ConvertFrom-Json) and names unresolved frames by module+offset' {
        $json = '[{"ProcessId":7,"ProcessName":"svc","Bytes":3000,"Count":3,"Stack":[{"Symbol":null,"Module":"libfoo.so","ModuleOffset":4660,"Address":0},{"Symbol":"main","Module":"svc"}]}]'
        $path = Join-Path $TestDrive 'json.folded'
        $json | ConvertFrom-Json | Export-FlameGraph -Path $path -Format Folded
        Get-Content $path | Should -Be 'svc;main;libfoo.so+0x1234 3000'
    }

    It 'takes AllocationEvent-shaped objects: Size is the bytes, each event one allocation' {
        $events = 1..4 | ForEach-Object {
            [pscustomobject]@{ Timestamp = [datetime]::UtcNow; ProcessId = 99; ThreadId = 100; Function = 'calloc'; Address = 0x1000 * $_; Size = 8192
                               Stack = @((New-Frame fibonacci), (New-Frame child)) }
        }
        $path = Join-Path $TestDrive 'events.svg'
        $events | Export-FlameGraph -Path $path
        $frames = @(Get-SvgFrame $path)
        ($frames | Where-Object Name -EQ '[pid 99]').Value | Should -Be 32768
        ($frames | Where-Object Name -EQ 'fibonacci').Count | Should -Be 4
    }

    It 'accepts an array through -InputObject' {
        $path = Join-Path $TestDrive 'param.folded'
        Export-FlameGraph -InputObject @($script:fibonacciLeak, $script:mainLeak) -Path $path -Format Folded
        @(Get-Content $path).Count | Should -Be 2
    }
}

Describe 'Export-FlameGraph folded output' {
    It 'writes one "outermost;...;innermost weight" line per distinct stack, sorted, with equal stacks summed' {
        $path = Join-Path $TestDrive 'leaks.folded'
        $script:fibonacciLeak, $script:mainLeak, $script:fibonacciLeak | Export-FlameGraph -Path $path -Format Folded
        Get-Content $path | Should -Be @(
            'app;__libc_start_call_main;main;make_buffer 204800'
            'app;start_thread;child;fibonacci 1638400'
        )
    }

    It 'writes counts with -Weight Count and keeps names with semicolons from splitting frames' {
        $path = Join-Path $TestDrive 'count.folded'
        New-Leak -Bytes 10 -Count 5 -Stack @((New-Frame 'odd;name'), (New-Frame main)) | Export-FlameGraph -Path $path -Format Folded -Weight Count
        Get-Content $path | Should -Be 'app;main;odd:name 5'
    }
}

Describe 'Export-FlameGraph output and errors' {
    It 'emits the file with -PassThru and nothing without it' {
        $path = Join-Path $TestDrive 'pass.svg'
        $file = $script:fibonacciLeak | Export-FlameGraph -Path $path -PassThru
        $file | Should -BeOfType [System.IO.FileInfo]
        $file.FullName | Should -Be $path
        $file.Length | Should -BeGreaterThan 1000
        $script:fibonacciLeak | Export-FlameGraph -Path $path | Should -BeNullOrEmpty
    }

    It 'reports an object without a Stack and still draws the rest' {
        $path = Join-Path $TestDrive 'partial.folded'
        $bad = [pscustomobject]@{ ProcessId = 1; Bytes = 10; Count = 1 }
        $script:fibonacciLeak, $bad | Export-FlameGraph -Path $path -Format Folded -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'FlameGraphInputHasNoStack,LeakTools.Commands.ExportFlameGraphCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].TargetObject | Should -Be $bad
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'Find-MemoryLeak'
        Get-Content $path | Should -Be 'app;start_thread;child;fibonacci 819200'
    }

    It 'reports an object without Bytes or Size when weighing by bytes' {
        $path = Join-Path $TestDrive 'noweight.svg'
        $bad = [pscustomobject]@{ Count = 1; Stack = @('f') }
        { $bad | Export-FlameGraph -Path $path -ErrorAction Stop } | Should -Throw -ErrorId 'FlameGraphInputHasNoWeight,LeakTools.Commands.ExportFlameGraphCommand'
    }

    It 'fails on empty input' {
        $path = Join-Path $TestDrive 'empty.svg'
        { @() | Export-FlameGraph -Path $path } | Should -Throw -ErrorId 'FlameGraphInputEmpty,LeakTools.Commands.ExportFlameGraphCommand'
        Test-Path $path | Should -BeFalse
    }

    It 'fails before reading input when the directory does not exist' {
        $path = Join-Path $TestDrive 'no/such/dir/x.svg'
        $err = { $script:fibonacciLeak | Export-FlameGraph -Path $path } | Should -Throw -ErrorId 'FlameGraphPathNotWritable,LeakTools.Commands.ExportFlameGraphCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'WriteError'
        $err.TargetObject | Should -Be $path
    }

    It 'fails when the path is a directory or cannot be written' {
        { $script:fibonacciLeak | Export-FlameGraph -Path $TestDrive } | Should -Throw -ErrorId 'FlameGraphPathNotWritable,LeakTools.Commands.ExportFlameGraphCommand'
        # /proc/version refuses writes even for root.
        { $script:fibonacciLeak | Export-FlameGraph -Path /proc/version } | Should -Throw -ErrorId 'FlameGraphPathNotWritable,LeakTools.Commands.ExportFlameGraphCommand'
    }

    It 'fails for a path outside the file system' {
        { $script:fibonacciLeak | Export-FlameGraph -Path 'Env:/LEAKTOOLS_FLAME' } | Should -Throw -ErrorId 'FlameGraphPathNotWritable,LeakTools.Commands.ExportFlameGraphCommand'
    }
}

Describe 'Export-FlameGraph with the module''s own output types' {
    It 'draws MemoryLeak objects' {
        $leak = [LeakTools.Model.MemoryLeak]@{
            ProcessId = 4242; ProcessName = 'app'; Bytes = [ulong]819200; Count = [ulong]100
            Stack = [LeakTools.Model.StackFrame[]]@((New-Frame fibonacci), (New-Frame child), (New-Frame start_thread -Module libc.so.6))
        }
        $path = Join-Path $TestDrive 'memoryleak.folded'
        $leak | Export-FlameGraph -Path $path -Format Folded
        Get-Content $path | Should -Be 'app;start_thread;child;fibonacci 819200'
    }

    It 'draws AllocationEvent objects, and reports the ones recorded without -IncludeStack' {
        $withStack = 1..3 | ForEach-Object {
            [LeakTools.Model.AllocationEvent]@{ ProcessId = 77; ThreadId = 78; Function = 'calloc'; Address = [ulong](0x1000 * $_); Size = [ulong]8192
                                                 Stack = [LeakTools.Model.StackFrame[]]@((New-Frame fibonacci), (New-Frame child)) }
        }
        $withoutStack = [LeakTools.Model.AllocationEvent]@{ ProcessId = 77; ThreadId = 78; Function = 'malloc'; Address = [ulong]0x9000; Size = [ulong]16 }
        $path = Join-Path $TestDrive 'events.folded'
        @($withStack) + $withoutStack | Export-FlameGraph -Path $path -Format Folded -ErrorVariable err -ErrorAction SilentlyContinue
        Get-Content $path | Should -Be '[pid 77];child;fibonacci 24576'
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'FlameGraphInputHasNoStack,LeakTools.Commands.ExportFlameGraphCommand'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'IncludeStack'
    }
}

Describe 'Export-FlameGraph of a live trace' {
    BeforeAll {
        # The demo app: thread child calls fibonacci, which callocs 8 KiB per step and never frees it.
        $app = Start-Process -FilePath "$PSScriptRoot/../../native/build/fibonacci" -ArgumentList '10', '1000' -RedirectStandardOutput ([IO.Path]::Combine($TestDrive, 'app.log')) -PassThru
        Start-Sleep -Milliseconds 200
    }

    AfterAll {
        if ($app -and -not $app.HasExited) { $app.Kill(); $app.WaitForExit() }
    }

    It 'draws the fibonacci <- child <- start_thread tower with the bytes Find-MemoryLeak reported' {
        $leaks = @(Find-MemoryLeak -Id $app.Id -Duration 2)
        $fibonacci = @($leaks | Where-Object { $_.Stack.Count -gt 0 -and $_.Stack[0].Symbol -eq 'fibonacci' })
        $fibonacci.Count | Should -BeGreaterThan 0
        $expected = ($fibonacci | Measure-Object -Property Bytes -Sum).Sum

        $path = Join-Path $TestDrive 'live.svg'
        $leaks | Export-FlameGraph -Path $path
        $frames = @(Get-SvgFrame $path)
        # The process is called fibonacci too; its root frame is a process frame, the function a user frame.
        $tower = @($frames | Where-Object { $_.Name -eq 'fibonacci' -and $_.Kind -eq 'user' })
        $tower.Count | Should -Be 1
        ($tower | Measure-Object -Property Value -Sum).Sum | Should -Be $expected
        $expected % 8192 | Should -Be 0
        $child = $frames | Where-Object { $_.Name -eq 'child' -and $_.Depth -eq $tower[0].Depth - 1 }
        $child | Should -Not -BeNullOrEmpty
        ($frames | Where-Object { $_.Name -eq 'start_thread' -and $_.Depth -eq $tower[0].Depth - 2 }) | Should -Not -BeNullOrEmpty
        ($frames | Where-Object Name -EQ 'all').Value | Should -Be ($leaks | Measure-Object -Property Bytes -Sum).Sum
    }
}
