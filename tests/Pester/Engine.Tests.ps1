#Requires -Version 7.4
# The tracing engine against real eBPF programs and a real C process (built here with clang):
# sizes, direct callers without frame pointers, realloc/posix_memalign/mmap semantics, churn,
# the ring buffer, the floor probe, kernel mode, errors, and that nothing of ours stays loaded.

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    . "$PSScriptRoot/Tracing.TestHelpers.ps1"

    $source = @'
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void *volatile sink[64];
#define SITE __attribute__((noinline))

/* Each site stores its result after the call, so the call is never a tail call. */
SITE void site_malloc(void) { sink[0] = malloc(1111); }
SITE void site_calloc(void) { sink[1] = calloc(3, 1000); }
SITE void site_realloc_grow(void) { void *p = malloc(50); sink[2] = p; sink[2] = realloc(p, 2222); }
SITE void site_realloc_null(void) { sink[3] = realloc(NULL, 3333); }
SITE void site_realloc_zero(void) { void *p = malloc(77); sink[4] = p; sink[4] = realloc(p, 0); }
SITE void site_posix_memalign(void) { void *p = NULL; if (posix_memalign(&p, 64, 4444) == 0) sink[5] = p; }
SITE void site_aligned_alloc(void) { sink[6] = aligned_alloc(64, 5504); }
SITE void site_valloc(void) { sink[7] = valloc(6666); }
SITE void site_reallocarray(void) { sink[8] = reallocarray(NULL, 7, 1001); }
SITE void site_mmap(void) { sink[9] = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }
SITE void site_munmap(void) {
    void *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sink[10] = p;
    munmap(p, 3 * 4096);
}
SITE void site_mremap(void) {
    void *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sink[11] = p;
    sink[11] = mremap(p, 2 * 4096, 9 * 4096, MREMAP_MAYMOVE);
}
SITE void site_big(void) { sink[12] = malloc(3 << 20); }   /* glibc mmaps this itself: one record, not two */
SITE void site_failed(void) { sink[13] = malloc((size_t)-1 / 2); }   /* returns NULL: not recorded */
/* A custom allocator inside the executable, for -Library/-SymbolPrefix. */
SITE void *myalloc_malloc(size_t n) { void *p = malloc(n); sink[20] = p; return p; }
SITE void myalloc_free(void *p) { sink[21] = p; free(p); }
SITE void site_custom(void) { sink[22] = myalloc_malloc(8888); myalloc_free(myalloc_malloc(999)); sink[23] = 0; }
/* Threads: each leaks one block and churns, concurrently; pending calls are per thread. */
static int thread_churn;
SITE void site_thread_leak(void) { sink[30] = malloc(1234); }
static void *worker(void *arg)
{
    (void)arg;
    site_thread_leak();
    for (int i = 0; i < thread_churn; i++) { void *p = malloc(48); sink[31] = p; free(p); }
    return NULL;
}
SITE void site_threads(int n)
{
    pthread_t t[4];
    thread_churn = n;
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
}
SITE void site_churn(int n) { for (int i = 0; i < n; i++) { void *p = malloc(64); sink[14] = p; free(p); } }

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    site_malloc(); site_calloc(); site_realloc_grow(); site_realloc_null(); site_realloc_zero();
    site_posix_memalign(); site_aligned_alloc(); site_valloc(); site_reallocarray();
    site_mmap(); site_munmap(); site_mremap(); site_big(); site_failed(); site_custom();
    site_churn(atoi(argv[2]));
    site_threads(atoi(argv[2]) / 4);
    close(open(argv[1], O_CREAT | O_WRONLY, 0644));   /* done: no stdio, so no stdio buffers */
    sleep(atoi(argv[3]));
    return 0;
}
'@
    $script:Exe = Join-Path $TestDrive 'engine-target'
    Set-Content -Path "$script:Exe.c" -Value $source
    & clang -O2 -g -fomit-frame-pointer -pthread -o $script:Exe "$script:Exe.c"
    if ($LASTEXITCODE -ne 0) { throw 'clang failed to build the engine target' }
    $script:Churn = 2000

    # Expected (site function, size) pairs still outstanding when the target is done.
    $script:Expected = @(
        'site_malloc:1111', 'site_calloc:3000', 'site_realloc_grow:2222', 'site_realloc_null:3333',
        'site_posix_memalign:4444', 'site_aligned_alloc:5504', 'site_valloc:6666', 'site_reallocarray:7007',
        'site_mmap:20480', 'site_mremap:36864', 'site_big:3145728', 'myalloc_malloc:8888')

    # Starts the target paused, attaches a tracer, resumes it, waits until it is done.
    function Start-TracedTarget([hashtable] $Settings) {
        $marker = Join-Path $TestDrive "done-$([guid]::NewGuid())"
        $launcher = [LeakTools.Targets.TargetLauncher]::StartPaused([string[]]@($script:Exe, $marker, "$script:Churn", '60'))
        $tracer = $null
        try {
            if ($null -ne $Settings) {
                $options = [LeakTools.Tracing.AllocationTracerOptions]::new()
                $options.ProcessId = $launcher.ProcessId
                foreach ($k in $Settings.Keys) { $options.$k = $Settings[$k] }
                $tracer = [LeakTools.Tracing.AllocationTracer]::Start($options)
            }
        }
        finally { $launcher.Resume() }
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        while (-not (Test-Path $marker) -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        if (-not (Test-Path $marker)) { throw 'The engine target did not finish in time.' }
        [pscustomobject]@{ Launcher = $launcher; Tracer = $tracer; ProcessId = $launcher.ProcessId }
    }

    # Starts the tracer on its own process in a fresh PowerShell (optionally under a wrapper such as setpriv)
    # and returns the TracerException's ErrorId, Category and Message.
    function Invoke-TracerInFreshPwsh([string[]] $Prefix = @()) {
        $module = (Resolve-Path "$PSScriptRoot/../../LeakTools.psd1").Path
        $probe = @"
Import-Module '$module'
`$o = [LeakTools.Tracing.AllocationTracerOptions]::new(); `$o.ProcessId = `$PID
try { [LeakTools.Tracing.AllocationTracer]::Start(`$o).Dispose(); 'started' }
catch { `$e = `$_.Exception.InnerException ?? `$_.Exception; "`$(`$e.ErrorId)|`$(`$e.Category)|`$(`$e.Message)" }
"@
        [string[]] $command = @($Prefix) + @(& "$PSScriptRoot/../../scripts/Get-PwshCommandLine.ps1")
        $command += '-NoProfile', '-NonInteractive', '-Command', $probe
        $out = & $command[0] $command[1..($command.Count - 1)]
        return (($out | Select-Object -Last 1) -split '\|', 3)
    }

    function Stop-TracedTarget($Run) {
        if ($Run.Tracer) { $Run.Tracer.Dispose() }
        if (-not $Run.Launcher.Process.HasExited) { $Run.Launcher.Process.Kill() }
        $Run.Launcher.Dispose()
    }

    # Which fixture function contains a return address of process $ProcessId (null when outside the executable).
    function Get-SiteName([int] $ProcessId, [uint64] $Address, $Image) {
        foreach ($line in Get-Content "/proc/$ProcessId/maps") {
            $f = $line -split '\s+', 6
            if ($f.Count -lt 6 -or $f[5] -ne $script:Exe) { continue }
            $range = $f[0] -split '-'
            $start = [Convert]::ToUInt64($range[0], 16); $end = [Convert]::ToUInt64($range[1], 16)
            if ($Address -lt $start -or $Address -ge $end) { continue }
            $fileOffset = $Address - $start + [Convert]::ToUInt64($f[2], 16)
            $vaddr = [uint64]0
            if (-not $Image.TryGetVirtualAddress($fileOffset, [ref]$vaddr)) { return $null }
            foreach ($name in $script:SiteNames) {
                $fn = [LeakTools.Symbols.ElfFunction]::new('', 0, 0)
                if ($Image.TryFindFunction($name, [ref]$fn) -and $vaddr -ge $fn.Value -and $vaddr -lt $fn.Value + $fn.Size) { return $name }
            }
        }
        return $null
    }
    $script:SiteNames = @('site_malloc', 'site_calloc', 'site_realloc_grow', 'site_realloc_null', 'site_realloc_zero',
        'site_posix_memalign', 'site_aligned_alloc', 'site_valloc', 'site_reallocarray', 'site_mmap', 'site_munmap',
        'site_mremap', 'site_big', 'site_failed', 'site_churn', 'site_custom', 'myalloc_malloc', 'myalloc_free', 'site_thread_leak', 'site_threads', 'main')

    # BPF objects held by this process, from /proc/self/fdinfo (bpftool here has no pid column): programs
    # named memleak__*/allocount__*, every bpf link, every perf event (uprobe attachments).
    function Get-OurBpfObjects {
        $names = @{}
        foreach ($p in @(& bpftool -j prog show | ConvertFrom-Json)) { $names[[long]$p.id] = $p.name }
        $progs = [System.Collections.Generic.List[string]]::new(); $links = 0; $perf = 0
        foreach ($fd in Get-ChildItem "/proc/$PID/fd" -ErrorAction Ignore) {
            $target = try { [IO.File]::ResolveLinkTarget($fd.FullName, $false).FullName } catch { '' }
            if ($target -like '*perf_event*') { $perf++ }
            $info = Get-Content "/proc/$PID/fdinfo/$($fd.Name)" -ErrorAction Ignore
            if ($info -match '^link_id:') { $links++ }
            elseif (($info | Select-String '^prog_id:\s*(\d+)') -and $target -like '*bpf-prog*') {
                $id = [long](($info | Select-String '^prog_id:\s*(\d+)').Matches[0].Groups[1].Value)
                if ($names[$id] -match '^(memleak__|allocount__)') { $progs.Add($names[$id]) }
            }
        }
        [pscustomobject]@{ Programs = @($progs); Links = $links; PerfEvents = $perf }
    }
}

Describe 'AllocationTracer on a user process' {
    BeforeAll {
        $script:Run = Start-TracedTarget @{ StreamEvents = $true }
        $script:Outstanding = $script:Run.Tracer.ReadOutstanding()
        $script:Stats = $script:Run.Tracer.ReadStatistics()
        $script:Image = [LeakTools.Symbols.ElfImage]::Open($script:Exe)
        $script:Mine = foreach ($a in $script:Outstanding) {
            $site = Get-SiteName $script:Run.ProcessId $a.CallerAddress $script:Image
            if ($site) { [pscustomobject]@{ Site = $site; Size = $a.Size; Allocation = $a } }
        }
        $script:Events = [System.Collections.Generic.List[object]]::new()
        $record = [LeakTools.Tracing.AllocationRecord]::new(0, 0, 0, 'Malloc', 0, 0, 0, 0, 0)
        while ($script:Run.Tracer.TryTakeEvent([ref]$record, 200)) { $script:Events.Add($record) }
    }
    AfterAll {
        if ($script:Image) { $script:Image.Dispose() }
        Stop-TracedTarget $script:Run
    }

    It 'probes every glibc allocator function at an emulated site or says why it stays at the entry' {
        $sites = $script:Run.Tracer.ProbeSites
        @($sites.Symbol) | Should -Contain 'malloc'
        @($sites.Symbol) | Should -Contain 'free'
        @($sites.Symbol) | Should -Contain 'mmap'
        foreach ($s in $sites) {
            ($s.Emulated -or $s.Reason -like 'entry*') | Should -BeTrue -Because "$($s.Symbol): $($s.Reason)"
            $s.ChosenOffset | Should -BeGreaterOrEqual $s.EntryOffset
        }
        $free = $sites | Where-Object Symbol -eq 'free'
        # Debian 12's glibc free starts with 'test %rdi,%rdi', which the kernel would single-step: the probe moves past it.
        $free.EntryInstruction | Should -BeLike 'test*'
        $free.Displacement | Should -BeGreaterThan 0
    }

    It 'names the direct caller of every allocation (built without frame pointers) with the exact size, once' {
        $got = @($script:Mine | Where-Object Site -notin 'main', 'site_thread_leak' | ForEach-Object { "$($_.Site):$($_.Size)" } | Sort-Object)
        $got | Should -Be @($script:Expected | Sort-Object)
    }

    It 'keeps pending calls apart per thread: one leak per worker thread, with its thread id, no churn left' {
        $leaks = @($script:Mine | Where-Object Site -eq 'site_thread_leak')
        $leaks.Count | Should -Be 4
        @($leaks.Size | Sort-Object -Unique) | Should -Be @(1234)
        $tids = @($leaks.Allocation.ThreadId | Sort-Object -Unique)
        $tids.Count | Should -Be 4
        $tids | Should -Not -Contain ([uint32]$script:Run.ProcessId)
        @($script:Outstanding | Where-Object Size -eq 48).Count | Should -Be 0
        $script:Stats.MissedReturns | Should -Be 0
    }

    It 'puts the direct caller first in the user stack' {
        $a = ($script:Mine | Where-Object Site -eq 'site_malloc').Allocation
        $stack = $script:Run.Tracer.Stacks.Read($a.StackKey, $a.CallerAddress).Frames
        $stack[0] | Should -Be $a.CallerAddress
    }

    It 'records realloc as free old + new, realloc(p, 0) as free, and nothing for failed allocations' {
        @($script:Mine | Where-Object { $_.Size -in 50, 77 }).Count | Should -Be 0
        @($script:Mine | Where-Object Site -in 'site_realloc_zero', 'site_failed', 'site_munmap').Count | Should -Be 0
        $script:Stats.FailedAllocations | Should -BeGreaterOrEqual 1
    }

    It 'does not record the mmap that malloc makes for itself' {
        @($script:Outstanding | Where-Object { $_.Size -gt 3145728 -and $_.Size -le 3145728 + 16384 }).Count | Should -Be 0
        $script:Stats.NestedCalls | Should -BeGreaterOrEqual 1
    }

    It 'leaves nothing outstanding from a malloc/free churn loop' {
        @($script:Mine | Where-Object Site -eq 'site_churn').Count | Should -Be 0
        $script:Stats.Frees | Should -BeGreaterOrEqual $script:Churn
        $script:Stats.Hits['Free'] | Should -BeGreaterOrEqual $script:Churn
    }

    It 'reports no losses for this small run' {
        $script:Stats.MapFullDrops | Should -Be 0
        $script:Stats.MissedReturns | Should -Be 0
        $script:Stats.RingBufferDrops | Should -Be 0
    }

    It 'streams calls through the ring buffer with process, thread, function and size' {
        $m = @($script:Events | Where-Object { $_.Function -eq 'Malloc' -and $_.Size -eq 1111 })
        $m.Count | Should -Be 1
        $m[0].ProcessId | Should -Be $script:Run.ProcessId
        $m[0].ThreadId | Should -Be $script:Run.ProcessId
        Get-SiteName $script:Run.ProcessId $m[0].CallerAddress $script:Image | Should -Be 'site_malloc'
        @($script:Events | Where-Object { $_.Function -eq 'Free' -and $_.Size -eq 64 }).Count | Should -BeGreaterOrEqual $script:Churn
        @($script:Events | Where-Object { $_.Function -eq 'PosixMemalign' -and $_.Size -eq 4444 }).Count | Should -Be 1
        @($script:Events | Where-Object { $_.Function -eq 'Mremap' -and $_.Size -eq 36864 }).Count | Should -Be 1
    }

    It 'converts CLOCK_MONOTONIC timestamps to recent wall-clock times' {
        $t = [LeakTools.Tracing.MonotonicClock]::ToDateTime(($script:Mine | Select-Object -First 1).Allocation.TimestampNs)
        ([datetime]::Now - $t).TotalMinutes | Should -BeLessThan 5
        ([datetime]::Now - $t).TotalSeconds | Should -BeGreaterThan -1
    }
}

Describe 'CountOnly (the floor probe)' {
    It 'counts entry and return hits at the same sites, and notices when the target exits' {
        $run = Start-TracedTarget @{ CountOnly = $true }
        try {
            $stats = $run.Tracer.ReadStatistics()
            $stats.Hits['Malloc'] | Should -BeGreaterOrEqual $script:Churn
            $stats.ReturnHits['Malloc'] | Should -BeGreaterOrEqual $script:Churn
            $stats.Hits['Free'] | Should -BeGreaterOrEqual $script:Churn
            $stats.ReturnHits.ContainsKey([LeakTools.Tracing.AllocatorFunction]::Free) | Should -BeFalse
            @($run.Tracer.ReadOutstanding()).Count | Should -Be 0
            $run.Tracer.TargetExited | Should -BeFalse
            $run.Launcher.Process.Kill(); $run.Launcher.Process.WaitForExit()
            $run.Tracer.TargetExited | Should -BeTrue
            $run.Tracer.ReadStatistics().Hits['Malloc'] | Should -BeGreaterOrEqual $script:Churn   # still readable
        }
        finally { Stop-TracedTarget $run }
    }
}

Describe 'Size filter and sampling' {
    It 'records only sizes within MinSize..MaxSize and counts the rest' {
        $run = Start-TracedTarget @{ MinSize = 3000; MaxSize = 5000 }
        $image = [LeakTools.Symbols.ElfImage]::Open($script:Exe)
        try {
            $sites = foreach ($a in $run.Tracer.ReadOutstanding()) {
                $site = Get-SiteName $run.ProcessId $a.CallerAddress $image
                if ($site) { "$($site):$($a.Size)" }
            }
            @($sites | Sort-Object) | Should -Be @('site_calloc:3000', 'site_posix_memalign:4444', 'site_realloc_null:3333')
            $run.Tracer.ReadStatistics().FilteredOut | Should -BeGreaterOrEqual $script:Churn
        }
        finally { $image.Dispose(); Stop-TracedTarget $run }
    }

    It 'records about one in SampleRate allocations' {
        $run = Start-TracedTarget @{ SampleRate = 10 }
        try {
            $stats = $run.Tracer.ReadStatistics()
            $total = $stats.Allocations + $stats.SampledOut
            $total | Should -BeGreaterOrEqual (2 * $script:Churn)
            ($stats.SampledOut / $total) | Should -BeGreaterThan 0.8
            ($stats.SampledOut / $total) | Should -BeLessThan 0.97
        }
        finally { Stop-TracedTarget $run }
    }
}

Describe 'A custom allocator (-Library with -SymbolPrefix)' {
    It 'probes the named library instead of libc, with the prefixed symbols' {
        $run = Start-TracedTarget @{ LibraryPath = $script:Exe; SymbolPrefix = 'myalloc_' }
        $image = [LeakTools.Symbols.ElfImage]::Open($script:Exe)
        try {
            @($run.Tracer.ProbeSites.Symbol | Sort-Object) | Should -Be @('myalloc_free', 'myalloc_malloc')
            $run.Tracer.ProbeSites[0].LibraryPath | Should -Be $script:Exe
            $all = @($run.Tracer.ReadOutstanding())
            $all.Count | Should -Be 1
            $all[0].Size | Should -Be 8888
            Get-SiteName $run.ProcessId $all[0].CallerAddress $image | Should -Be 'site_custom'
        }
        finally { $image.Dispose(); Stop-TracedTarget $run }
    }
}

Describe 'A million outstanding allocations' {
    It 'holds them all in the default map size and reads every one back' {
        $million = Join-Path $TestDrive 'million'
        Set-Content "$million.c" @'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
void *volatile keep;
int main(int argc, char **argv) {
    int n = atoi(argv[2]);
    void **all = calloc(n, sizeof(void *));
    for (int i = 0; i < n; i++) all[i] = malloc(16 + (i & 7));
    keep = all;
    close(open(argv[1], O_CREAT | O_WRONLY, 0644));
    sleep(atoi(argv[3]));
    return 0;
}
'@
        & clang -O2 -o $million "$million.c"
        $marker = Join-Path $TestDrive 'million-done'
        $launcher = [LeakTools.Targets.TargetLauncher]::StartPaused([string[]]@($million, $marker, '1000000', '60'))
        $tracer = $null
        try {
            $options = [LeakTools.Tracing.AllocationTracerOptions]::new()
            $options.ProcessId = $launcher.ProcessId
            $tracer = [LeakTools.Tracing.AllocationTracer]::Start($options)
            $launcher.Resume()
            $deadline = [datetime]::UtcNow.AddSeconds(120)
            while (-not (Test-Path $marker) -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $all = $tracer.ReadOutstanding()
            @($all | Where-Object { $_.Size -ge 16 -and $_.Size -le 23 }).Count | Should -Be 1000000
            @($all | Where-Object Size -eq 8000000).Count | Should -Be 1   # the calloc'ed pointer array
            $tracer.ReadStatistics().MapFullDrops | Should -Be 0
        }
        finally {
            if ($tracer) { $tracer.Dispose() }
            $launcher.Resume()
            if (-not $launcher.Process.HasExited) { $launcher.Process.Kill() }
            $launcher.Dispose()
        }
    }
}

Describe 'Kernel mode' {
    It 'sees kernel allocations with kernel stacks' {
        $options = [LeakTools.Tracing.AllocationTracerOptions]::new()
        $options.Kernel = $true
        $tracer = [LeakTools.Tracing.AllocationTracer]::Start($options)
        $load = Start-KernelAllocationLoad   # the tracer leaves out its own process: a child makes the allocations
        try {
            Start-Sleep -Milliseconds 500
            $all = $tracer.ReadOutstanding()
            $all.Count | Should -BeGreaterThan 0
            $withStack = $all | Where-Object StackKey -ne 0 | Select-Object -First 1
            $withStack | Should -Not -BeNullOrEmpty
            $captured = $tracer.Stacks.Read($withStack.StackKey, $withStack.CallerAddress)
            $captured.Source | Should -Be 'Kernel'   # the stored unwind, not the caller alone
            $stack = $captured.Frames
            $stack.Count | Should -BeGreaterThan 0
            # Our own frames (the BPF program, bpf_trace_runN) are skipped: the stack starts in kernel text.
            $text = Select-String -Path /proc/kallsyms -Pattern ' [Tt] _(stext|etext)$' | ForEach-Object { [Convert]::ToUInt64(($_.Line -split ' ')[0], 16) }
            $stack[0] | Should -BeGreaterOrEqual ($text | Measure-Object -Minimum).Minimum
            $stack[0] | Should -BeLessThan ($text | Measure-Object -Maximum).Maximum
            $stats = $tracer.ReadStatistics()
            ($stats.Hits['Kmalloc'] + $stats.Hits['KmemCacheAlloc']) | Should -BeGreaterThan 0
        }
        finally {
            $tracer.Dispose()
            Stop-Process -Id $load.Id -ErrorAction Ignore
        }
    }
}

Describe 'Errors' {
    It 'refuses an allocator library the target does not have' {
        $run = Start-TracedTarget $null
        try {
            $options = [LeakTools.Tracing.AllocationTracerOptions]::new()
            $options.ProcessId = $run.ProcessId
            $options.LibraryPath = 'libnosuchalloc.so.9'
            $err = { [LeakTools.Tracing.AllocationTracer]::Start($options) } | Should -Throw -PassThru
            $ex = $err.Exception.InnerException ?? $err.Exception
            $ex | Should -BeOfType ([LeakTools.Tracing.TracerException])
            $ex.ErrorId | Should -Be 'TracerLibraryNotFound'
            $ex.Category | Should -Be 'ObjectNotFound'
            $ex.Target | Should -Be 'libnosuchalloc.so.9'
        }
        finally { Stop-TracedTarget $run }
    }

    It 'refuses a library without allocator functions' {
        $run = Start-TracedTarget $null
        try {
            $options = [LeakTools.Tracing.AllocationTracerOptions]::new()
            $options.ProcessId = $run.ProcessId
            $options.LibraryPath = $script:Exe
            $options.SymbolPrefix = 'nothing_'
            $err = { [LeakTools.Tracing.AllocationTracer]::Start($options) } | Should -Throw -PassThru
            $ex = $err.Exception.InnerException ?? $err.Exception
            $ex.ErrorId | Should -Be 'TracerAllocatorFunctionsNotFound'
            $ex.Category | Should -Be 'ObjectNotFound'
        }
        finally { Stop-TracedTarget $run }
    }

    It 'names the missing capabilities when started without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN' {
        $id, $category, $message = Invoke-TracerInFreshPwsh -Prefix @('setpriv', '--bounding-set=-bpf,-perfmon,-sys_admin')
        $id | Should -Be 'TracerMissingCapabilities'
        $category | Should -Be 'PermissionDenied'
        $message | Should -Match 'CAP_BPF'
        $message | Should -Match 'CAP_PERFMON'
        $message | Should -Not -Match 'CAP_SYS_PTRACE'   # still held
    }

    It 'says libbpf is missing, with the remedy, when the libbpf it is told to use cannot be loaded' {
        $id, $category, $message = Invoke-TracerInFreshPwsh -Prefix @('env', 'LEAKTOOLS_LIBBPF=/nonexistent/libbpf.so.1')
        $id | Should -Be 'TracerLibbpfMissing'
        $category | Should -Be 'NotInstalled'
        $message | Should -Match '/nonexistent/libbpf\.so\.1'
    }

    # A kernel without BTF or without uprobes, as the tracer sees one: a private mount namespace in which an empty
    # tmpfs covers what the kernel exposes (the files the check reads, and libbpf after it, are really gone).
    It 'says the kernel has no <Missing>, with the remedy, when <Hidden> is covered' -ForEach @(
        @{ Missing = 'BTF'; Hidden = '/sys/kernel/btf'; ErrorId = 'TracerNoKernelBtf'; Names = '/sys/kernel/btf/vmlinux' }
        @{ Missing = 'uprobes'; Hidden = '/sys/bus/event_source/devices'; ErrorId = 'TracerNoUprobeSupport'; Names = 'uprobe support' }
    ) {
        $hide = @('unshare', '--mount', '--propagation', 'private', 'sh', '-c', "mount -t tmpfs none $Hidden && exec `"`$@`"", 'sh')
        $id, $category, $message = Invoke-TracerInFreshPwsh -Prefix $hide
        $id | Should -Be $ErrorId
        $category | Should -Be 'NotInstalled'
        $message | Should -Match ([regex]::Escape($Names))
    }

    It 'refuses a process that does not exist' {
        $options = [LeakTools.Tracing.AllocationTracerOptions]::new()
        $options.ProcessId = 999999999
        $err = { [LeakTools.Tracing.AllocationTracer]::Start($options) } | Should -Throw -PassThru
        $ex = $err.Exception.InnerException ?? $err.Exception
        $ex.ErrorId | Should -Be 'TracerTargetNotFound'
        $ex.Category | Should -Be 'ObjectNotFound'
        $ex.Target | Should -Be 999999999
    }
}

Describe 'Cleanup' {
    It 'leaves no program or link of ours loaded after Dispose, and Dispose is idempotent' {
        $run = Start-TracedTarget @{ StreamEvents = $true }
        $before = Get-OurBpfObjects
        $before.Programs.Count | Should -BeGreaterThan 0
        ($before.Links + $before.PerfEvents) | Should -BeGreaterThan 0
        $run.Tracer.Dispose()
        $run.Tracer.Dispose()
        $left = Get-OurBpfObjects
        $left.Programs.Count | Should -Be 0
        $left.Links | Should -Be 0
        $left.PerfEvents | Should -Be 0
        $run.Launcher.Process.HasExited | Should -BeFalse   # the target keeps running
        Stop-TracedTarget ([pscustomobject]@{ Tracer = $null; Launcher = $run.Launcher })
    }

    It 'works and cleans up the same through perf-event uprobes (the path for kernels without multi-uprobe links)' {
        $env:LEAKTOOLS_PERF_UPROBES = '1'
        try { $run = Start-TracedTarget @{ CountOnly = $true } }
        finally { Remove-Item Env:LEAKTOOLS_PERF_UPROBES }
        try {
            (Get-OurBpfObjects).PerfEvents | Should -BeGreaterThan 0
            $run.Tracer.ReadStatistics().Hits['Malloc'] | Should -BeGreaterOrEqual $script:Churn
            $run.Tracer.Dispose()
            $left = Get-OurBpfObjects
            $left.Programs.Count | Should -Be 0
            $left.Links | Should -Be 0
            $left.PerfEvents | Should -Be 0
        }
        finally { Stop-TracedTarget $run }
    }
}
