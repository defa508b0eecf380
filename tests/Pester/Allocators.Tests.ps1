# The allocator a process really uses, found without -Library: jemalloc, tcmalloc, mimalloc, glibc, a static
# binary, an LD_PRELOAD; C++ operator new/new[] under each; partial munmap and mremap; -Library errors.
# The fixtures (tests/fixtures/allocator_leaks.c and allocator_leaks_cxx.cpp, one build per allocator) leak from
# known sites with known sizes once at start, churn, then exit: one traced run per case, several assertions each.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"

    # Runs a fixture under Find-MemoryLeak -Command until it exits, and returns what was reported.
    function Invoke-FixtureTrace([string] $Name, [string] $Mode = 'once') {
        @(Find-MemoryLeak -Command (Join-Path $FixtureDir $Name), '0.3', $Mode)
    }

    # Bytes and count per direct caller (a site called in an unrolled loop has one stack per call).
    function Get-SiteTotals($Leaks) {
        $totals = @{}
        foreach ($leak in $Leaks) {
            $site = Get-DirectCaller $leak
            if (-not $site) { continue }
            if (-not $totals.ContainsKey($site)) { $totals[$site] = [pscustomobject]@{ Bytes = [uint64]0; Count = [uint64]0 } }
            $totals[$site].Bytes += $leak.Bytes
            $totals[$site].Count += $leak.Count
        }
        $totals
    }
}

Describe 'A C program linked with <Allocator> is traced without -Library' -ForEach @(
    @{ Allocator = 'jemalloc'; Soname = 'libjemalloc.so.2' }
    @{ Allocator = 'tcmalloc'; Soname = 'libtcmalloc_minimal.so.4' }
    @{ Allocator = 'mimalloc'; Soname = 'libmimalloc.so.2' }
    @{ Allocator = 'glibc'; Soname = 'libc.so.6' }
) {
    BeforeAll {
        $script:leaks = Invoke-FixtureTrace "allocator_leaks_$Allocator"
        $script:sites = Get-SiteTotals $leaks
    }

    It 'reports <Soname> as the Allocator of every leak' {
        $leaks.Count | Should -BeGreaterThan 0
        @($leaks.Allocator | Select-Object -Unique) | Should -Be @($Soname)
    }

    It 'finds malloc and calloc leaks with exact sizes and counts' {
        $sites['leak_malloc'].Bytes | Should -Be (3 * 1111)
        $sites['leak_malloc'].Count | Should -Be 3
        $sites['leak_calloc'].Bytes | Should -Be (2 * 4 * 555)
        $sites['leak_calloc'].Count | Should -Be 2
    }

    It "finds the leak made through the allocator's own API, and none from the calls freed through it" {
        # jemalloc mallocx, tcmalloc tc_malloc, mimalloc mi_malloc_aligned, glibc memalign; the rest are freed pairs.
        $sites['leak_extended'].Bytes | Should -Be 3333
        $sites['leak_extended'].Count | Should -Be 1
    }

    It "sees the C library's own call to malloc (strdup)" {
        $sites['strdup'].Bytes | Should -Be 100
        $sites['strdup'].Count | Should -Be 1
    }

    It 'reports nothing from the malloc/free churn' {
        @($leaks | Where-Object { $_.StackText -match 'churn' }) | Should -BeNullOrEmpty
    }
}

Describe "mimalloc's malloc and calloc, probed past the register copy of their first argument" {
    BeforeAll {
        # mimalloc 2.0's malloc copies its size to rsi and loads its heap into rdi before its first branch (calloc: nmemb
        # to rax): the probe sits at that branch and its program reads the size where the site says it is.
        $output = @(Find-MemoryLeak -Command (Join-Path $FixtureDir 'allocator_leaks_mimalloc'), '0.3', 'once' -Verbose 4>&1)
        $script:probes = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message | Where-Object { $_ -match '^Probe (malloc|calloc) in \S*libmimalloc' })
        $script:sites = Get-SiteTotals @($output | Where-Object { $_ -is [LeakTools.Model.MemoryLeak] })
    }

    It 'places the probes at the first branch, not at the single-stepped entry' {
        $probes.Count | Should -Be 2
        ($probes -match '^Probe malloc ') | Should -Match "\(\+0x15\) 'ja .*rdi \(now in rsi\)"
        ($probes -match '^Probe calloc ') | Should -Match "\(\+0x12\) 'je .*rdi \(now in rax\), rsi,"
    }

    It 'reads the sizes from the registers they were copied to' {
        $sites['leak_malloc'].Bytes | Should -Be (3 * 1111)
        $sites['leak_calloc'].Bytes | Should -Be (2 * 4 * 555)
        $sites['strdup'].Bytes | Should -Be 100
    }
}

Describe 'C++ operator new and new[] under <Allocator>' -ForEach @(
    @{ Allocator = 'jemalloc'; Soname = 'libjemalloc.so.2'; OwnOperators = $true }
    @{ Allocator = 'tcmalloc'; Soname = 'libtcmalloc_minimal.so.4'; OwnOperators = $true }
    @{ Allocator = 'mimalloc'; Soname = 'libmimalloc.so.2'; OwnOperators = $true }
    @{ Allocator = 'glibc'; Soname = 'libc.so.6'; OwnOperators = $false }
) {
    BeforeAll {
        $script:leaks = Invoke-FixtureTrace "allocator_leaks_cxx_$Allocator"
        # By the size of one allocation: under glibc the site's own frame may be missing (libstdc++ keeps no frame pointer).
        function Get-BySize([uint64] $Size) {
            $matching = @($leaks | Where-Object { $_.Count -gt 0 -and $_.Bytes / $_.Count -eq $Size })
            [pscustomobject]@{ Leaks = $matching; Bytes = ($matching | Measure-Object Bytes -Sum).Sum; Count = ($matching | Measure-Object Count -Sum).Sum }
        }
    }

    It 'finds new (2 × 1212), new[] (1313) and aligned new (640) exactly, from <Soname>' {
        @($leaks.Allocator | Select-Object -Unique) | Should -Be @($Soname)
        $new = Get-BySize 1212
        $new.Bytes | Should -Be 2424
        $new.Count | Should -Be 2
        $array = Get-BySize 1313
        $array.Bytes | Should -Be 1313
        $array.Count | Should -Be 1
        $aligned = Get-BySize 640
        $aligned.Count | Should -Be 1
        @($leaks | Where-Object { $_.StackText -match 'churn' }) | Should -BeNullOrEmpty
    }

    It 'names the caller of new: the site when the allocator defines the operators, operator new (libstdc++) under glibc' {
        $callers = @((Get-BySize 1212).Leaks + (Get-BySize 1313).Leaks | ForEach-Object { Get-DirectCaller $_ } | Select-Object -Unique)
        if ($OwnOperators) { @($callers | Sort-Object) | Should -Be @('leak_new', 'leak_new_array') }
        else { $callers | Should -Be @('operator new') }
    }
}

Describe 'A statically linked program' {
    It 'is traced without -Library: the executable is its own allocator' {
        $leaks = Invoke-FixtureTrace 'allocator_leaks_static'
        @($leaks.Allocator | Select-Object -Unique) | Should -Be @('allocator_leaks_static')
        $sites = Get-SiteTotals $leaks
        $sites['leak_malloc'].Bytes | Should -Be 3333
        $sites['leak_malloc'].Count | Should -Be 3
        $sites['leak_extended'].Bytes | Should -Be 3333
    }

    It 'is a clear error when stripped: its malloc has no name, and the error says what to trace instead' {
        $stripped = Join-Path $TestDrive 'allocator_leaks_static_stripped'
        & strip --strip-all -o $stripped (Join-Path $FixtureDir 'allocator_leaks_static')
        $leaks = Find-MemoryLeak -Command $stripped, '0.3' -ErrorAction SilentlyContinue -ErrorVariable err
        $leaks | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'TracerAllocatorFunctionsNotFound,LeakTools.Commands.FindMemoryLeakCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $stripped
        $err[0].Exception.Message | Should -Match 'statically linked'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'not stripped'
    }
}

Describe 'A running process with jemalloc in LD_PRELOAD' {
    BeforeAll {
        $env:LD_PRELOAD = 'libjemalloc.so.2'   # a bare name: the dynamic linker searches it as it would a DT_NEEDED entry
        try { $script:process = Start-Fixture 'allocator_leaks_glibc' @('30', 'repeat') }
        finally { Remove-Item Env:LD_PRELOAD }
    }
    AfterAll { Stop-Fixture $process }

    It 'traces the preloaded allocator, not libc' {
        $leaks = @(Find-MemoryLeak -Id $process.Id -Duration 1.5 -OlderThan 0.2)
        @($leaks.Allocator | Select-Object -Unique) | Should -Be @('libjemalloc.so.2')
        $malloc = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_malloc' })
        $malloc.Count | Should -BeGreaterThan 0
        $malloc | ForEach-Object { $_.Bytes | Should -Be ($_.Count * 1111) }
    }

    It 'refuses a -Library the process does not map, listing the objects that define malloc in binding order' {
        $leaks = Find-MemoryLeak -Id $process.Id -Library libtcmalloc_minimal.so.4 -Duration 1 -ErrorAction SilentlyContinue -ErrorVariable err
        $leaks | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'TracerLibraryNotFound,LeakTools.Commands.FindMemoryLeakCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 'libtcmalloc_minimal.so.4'
        $err[0].Exception.Message | Should -Match ([regex]::Escape('binds: libjemalloc.so.2, libc.so.6.'))
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'Leave out -Library'
    }
}

Describe 'Partial munmap and mremap' {
    BeforeAll {
        $script:leaks = Invoke-FixtureTrace 'allocator_leaks_glibc' 'munmap'
        $script:sites = Get-SiteTotals $leaks
    }

    It 'keeps the tail of a mapping whose head was unmapped' {
        $sites['leak_unmap_head'].Bytes | Should -Be (3 * 4096)
        $sites['leak_unmap_head'].Count | Should -Be 1
    }

    It 'keeps the head of a mapping whose tail was unmapped' {
        $sites['leak_unmap_tail'].Bytes | Should -Be (5 * 4096)
        $sites['leak_unmap_tail'].Count | Should -Be 1
    }

    It 'splits a mapping unmapped in the middle into two records' {
        $middle = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_unmap_middle' })
        $sites['leak_unmap_middle'].Bytes | Should -Be (6 * 4096)
        $sites['leak_unmap_middle'].Count | Should -Be 2
        $middle.Count | Should -Be 1 -Because 'both pieces keep the stack of the mmap'
    }

    It 'drops a mapping unmapped whole' {
        $sites.ContainsKey('leak_unmap_whole') | Should -BeFalse
    }

    It 'splits a mapping when mremap moves part of it, and records the new place' {
        $parts = @($leaks | Where-Object { (Get-DirectCaller $_) -eq 'leak_mremap_part' } | Sort-Object Bytes)
        $parts.Count | Should -Be 2 -Because 'the mmap and the mremap are two stacks'
        $parts[0].Bytes | Should -Be (3 * 4096)
        $parts[0].Count | Should -Be 1
        $parts[1].Bytes | Should -Be (8 * 4096)
        $parts[1].Count | Should -Be 2
    }
}
