#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks LeakTools.

.DESCRIPTION
    Every task installs what it needs first: Debian packages through apt-get (when running as root),
    Pester from NuGet, and the .NET restore. Start it through the pinned PowerShell:

        dotnet tool restore && dotnet pwsh ./build.ps1 Demo
        dotnet tool restore && dotnet pwsh ./build.ps1 Test

.PARAMETER Task
    Build (the default), Test, Demo, Bench or Clean.

.PARAMETER PesterPath
    Test only: run just these Pester files (paths or wildcards under tests/Pester).

.PARAMETER SkipUnitTests
    Test only: skip the xunit project (handy while iterating on Pester tests).

.PARAMETER SkipPester
    Test only: skip the Pester suite (handy while iterating on unit tests).
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Clean')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [string[]] $PesterPath,

    [switch] $SkipUnitTests,

    [switch] $SkipPester
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Root = $PSScriptRoot
$BinDir = Join-Path $Root 'bin'
# Get-Help looks for help in <ModuleBase>/<culture>, and ModuleBase is the folder of LeakTools.psd1.
$HelpDir = Join-Path $Root 'en-US'
$NativeDir = Join-Path $Root 'native'
$NativeBuildDir = Join-Path $NativeDir 'build'
$ProjectFile = Join-Path $Root 'src/LeakCmdlets/LeakCmdlets.csproj'
$UnitTestProject = Join-Path $Root 'tests/LeakTools.Tests/LeakTools.Tests.csproj'
$PesterVersion = '5.7.1'

# Per machine architecture: clang's BPF target flag (bpf_tracing.h reads pt_regs the way that architecture lays
# them out) and the Debian multiarch directory.
$Architectures = @{
    X64   = @{ BpfTarget = 'x86'; Multiarch = 'x86_64-linux-gnu' }
    Arm64 = @{ BpfTarget = 'arm64'; Multiarch = 'aarch64-linux-gnu' }
}
$MachineArchitecture = [string][System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture
if (-not $Architectures.ContainsKey($MachineArchitecture)) {
    throw "LeakTools builds on x64 and arm64 only, not on $MachineArchitecture."
}
$Architecture = $Architectures[$MachineArchitecture]

# Debian packages the tasks rely on: command (or file) that proves it is there => package.
$DebianPackages = [ordered]@{
    'clang'                                   = 'clang'
    'llvm-strip'                              = 'llvm'
    'bpftool'                                 = 'bpftool'
    '/usr/include/bpf/bpf_helpers.h'          = 'libbpf-dev'
    "/usr/lib/$($Architecture.Multiarch)/libbpf.so.1" = 'libbpf1'
    '/usr/include/stdio.h'                    = 'libc6-dev'
    'objcopy'                                 = 'binutils'
    'pmap'                                    = 'procps'
    'unshare'                                 = 'util-linux'
    'python3'                                 = 'python3'
    '/usr/share/doc/libc6-dbg/copyright'      = 'libc6-dbg'
    # The allocator fixtures (tests/fixtures/allocator_leaks*): one build per allocator, C and C++.
    'g++'                                     = 'g++'
    '/usr/include/jemalloc/jemalloc.h'        = 'libjemalloc-dev'
    '/usr/include/gperftools/tcmalloc.h'      = 'libgoogle-perftools-dev'
    '/usr/include/mimalloc.h'                 = 'libmimalloc-dev'
    'redis-server'                            = 'redis-server'   # Bench's Redis section: a real service (jemalloc)
    'redis-benchmark'                         = 'redis-tools'
    # The fleet test (tests/Pester/Fleet.Tests.ps1): network namespaces, an sshd per host, ssh as the remoting client.
    'ip'                                      = 'iproute2'
    '/usr/sbin/sshd'                          = 'openssh-server'
    'ssh'                                     = 'openssh-client'
    # The pprof tests decode Export-MemoryProfile's output with the published schema, apart from the encoder.
    'protoc'                                  = 'protobuf-compiler'
    '/usr/lib/python3/dist-packages/google/protobuf/__init__.py' = 'python3-protobuf'
    # gdb: the oracle of tests/Pester/Unwinding.Tests.ps1, and the tracer -Verdict refuses in Verdict.Tests.ps1.
    'gdb'                                     = 'gdb'
    "/usr/lib/llvm-14/lib/libLLVM-14.so.1"    = 'libllvm14'          # Bench -Section Unwind: the large table
}

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

# Runs a native command and fails the task when it fails.
# A plain function on purpose: an advanced one would take '-v' as -Verbose.
function Invoke-Native {
    $FilePath, $ArgumentList = $args
    $ArgumentList = @($ArgumentList | ForEach-Object { $_ })
    & $FilePath @ArgumentList | Out-Host
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

function Test-IsRoot { (& id -u) -eq '0' }

function Install-DebianPackage {
    $missing = foreach ($probe in $DebianPackages.Keys) {
        $present = if ($probe.StartsWith('/')) { Test-Path $probe } else { [bool](Get-Command $probe -CommandType Application -ErrorAction Ignore) }
        if (-not $present) { $DebianPackages[$probe] }
    }
    $missing = @($missing | Select-Object -Unique)
    if ($missing.Count -eq 0) { return }
    if (-not (Test-IsRoot)) {
        throw "Missing Debian packages: $($missing -join ', '). Install them with: sudo apt-get install -y $($missing -join ' ')"
    }
    Write-Step "apt-get install $($missing -join ' ')"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native apt-get update -qq
    Invoke-Native apt-get install -y -qq --no-install-recommends @missing
}

function Get-NuGetPackageRoot {
    $line = (& dotnet nuget locals global-packages --list) -join "`n"
    if ($line -match 'global-packages:\s*(.+)$') { return $Matches[1].Trim() }
    return Join-Path $HOME '.nuget/packages'
}

function Install-Pester {
    $manifest = Join-Path (Get-NuGetPackageRoot) "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $manifest)) {
        Write-Step "Restoring Pester $PesterVersion from NuGet"
        Invoke-Native dotnet restore (Join-Path $Root 'tests/Pester/PesterPackage.csproj') --nologo -v quiet
    }
    if (-not (Test-Path $manifest)) { throw "Pester $PesterVersion was restored but $manifest is missing." }
    return $manifest
}

function Build-Bpf {
    New-Item -ItemType Directory -Force -Path $NativeBuildDir | Out-Null
    $vmlinux = Join-Path $NativeBuildDir 'vmlinux.h'
    if (-not (Test-Path $vmlinux)) {
        if (-not (Test-Path /sys/kernel/btf/vmlinux)) {
            throw 'This kernel has no BTF (/sys/kernel/btf/vmlinux); LeakTools needs CONFIG_DEBUG_INFO_BTF=y.'
        }
        Write-Step 'Generating native/build/vmlinux.h from the running kernel''s BTF'
        $text = & bpftool btf dump file /sys/kernel/btf/vmlinux format c
        if ($LASTEXITCODE -ne 0) { throw 'bpftool btf dump failed.' }
        Set-Content -Path $vmlinux -Value $text
    }
    foreach ($source in Get-ChildItem -Path $NativeDir -Filter '*.bpf.c' -File) {
        $object = Join-Path $NativeBuildDir ($source.Name -replace '\.c$', '.o')
        if ((Test-Path $object) -and (Get-Item $object).LastWriteTime -gt (Get-NewestNativeInput)) { continue }
        Write-Step "clang -target bpf $($source.Name)"
        Invoke-Native clang -g -O2 -Wall -target bpf "-D__TARGET_ARCH_$($Architecture.BpfTarget)" `
            -I $NativeBuildDir -I $NativeDir -c $source.FullName -o $object
        Invoke-Native llvm-strip -g $object   # keep .BTF/.BTF.ext, drop DWARF
    }
}

function Get-NewestNativeInput {
    (Get-ChildItem -Path $NativeDir -Include '*.c', '*.h' -File -Recurse |
        Where-Object FullName -notlike "$NativeBuildDir*" |
        Measure-Object -Property LastWriteTime -Maximum).Maximum
}

# Native executables listed in native/native.psd1 (launcher, demo app, benchmark programs).
function Build-NativeExecutable {
    $manifest = Import-PowerShellDataFile (Join-Path $NativeDir 'native.psd1')
    foreach ($exe in $manifest.Executables) {
        $outDir = if ($exe['Output'] -eq 'bin') { $BinDir } else { $NativeBuildDir }
        New-Item -ItemType Directory -Force -Path $outDir | Out-Null
        $out = Join-Path $outDir $exe.Name
        $sources = @($exe.Sources | ForEach-Object { Join-Path $NativeDir $_ })
        $newest = ($sources | Get-Item | Measure-Object LastWriteTime -Maximum).Maximum
        if ((Test-Path $out) -and (Get-Item $out).LastWriteTime -gt $newest) { continue }
        Write-Step "clang $($exe.Name)"
        $flags = @($exe['Flags'] ?? @('-O2', '-g'))
        $libs = @($exe['Libraries'] ?? @())
        Invoke-Native clang @flags -I $NativeDir -I $NativeBuildDir -o $out @sources @libs
    }
}

function Update-ModuleVersion {
    $version = ([xml](Get-Content $ProjectFile -Raw)).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
    $psd1 = Join-Path $Root 'LeakTools.psd1'
    $text = Get-Content $psd1 -Raw
    $updated = $text -replace "ModuleVersion(\s*)=(\s*)'[^']*'", "ModuleVersion`$1=`$2'$version'"
    if ($updated -ne $text) { Set-Content -Path $psd1 -Value $updated -NoNewline }
}

function Invoke-Build {
    Install-DebianPackage
    Build-Bpf
    Update-ModuleVersion
    Write-Step "dotnet build ($Configuration)"
    Invoke-Native dotnet build $ProjectFile -c $Configuration --nologo -v quiet '-clp:ErrorsOnly'
    Build-NativeExecutable
    $helpBuilder = Join-Path $Root 'scripts/Build-Help.ps1'
    if (Test-Path $helpBuilder) { & $helpBuilder -OutputDirectory $HelpDir }
}

function Invoke-FixtureBuild {
    $builder = Join-Path $Root 'tests/fixtures/Build-Fixtures.ps1'
    if (Test-Path $builder) { & $builder }
}

# Runs Pester in a fresh PowerShell so the tests see default preferences, not this script's.
function Invoke-PesterSuite {
    $pester = Install-Pester
    $resultFile = Join-Path ([IO.Path]::GetTempPath()) "leaktools-pester-$PID.json"
    # 'dotnet pwsh ./build.ps1 Test -PesterPath a,b' arrives as one string: split it here.
    $paths = if ($PesterPath) { @($PesterPath -split ',' | ForEach-Object Trim | Where-Object { $_ }) } else { @(Join-Path $Root 'tests/Pester') }
    $script = @"
`$ErrorActionPreference = 'Continue'
Import-Module '$pester' -MinimumVersion $PesterVersion
`$config = New-PesterConfiguration
`$config.Run.Path = @('$($paths -join "','")')
`$config.Run.PassThru = `$true
`$config.Output.Verbosity = 'Detailed'
`$config.Should.ErrorAction = 'Continue'
`$r = Invoke-Pester -Configuration `$config
# Name every failure once more at the end, so the last lines of a long log say what failed.
`$failures = @(`$r.Failed | ForEach-Object { "`$(`$_.ExpandedPath): `$(@(`$_.ErrorRecord)[0].Exception.Message -split "``n" | Select-Object -First 3)" }) +
    @(`$r.FailedBlocks | ForEach-Object { "`$(`$_.Path -join ' '): `$(@(`$_.ErrorRecord)[0].Exception.Message)" }) +
    @(`$r.FailedContainers | ForEach-Object { "`$(`$_.Item): `$(@(`$_.ErrorRecord)[0].Exception.Message)" })
@{ Passed = `$r.PassedCount; Failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount; Skipped = `$r.SkippedCount; NotRun = `$r.NotRunCount; Failures = `$failures } |
    ConvertTo-Json | Set-Content -Path '$resultFile'
"@
    $pwsh = @(& (Join-Path $Root 'scripts/Get-PwshCommandLine.ps1'))
    $pwshArgs = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)
    & $pwsh[0] @pwshArgs | Out-Host
    if (-not (Test-Path $resultFile)) { return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    $result = Get-Content $resultFile -Raw | ConvertFrom-Json
    Remove-Item $resultFile
    if ($result.Passed + $result.Failed -eq 0) {
        # A run that found no test is a broken run, not a green one.
        Write-Host "Pester ran no test in: $($paths -join ', ')" -ForegroundColor Red
        $result.Failed = 1
    }
    return $result
}

function Invoke-UnitTestSuite {
    $resultsDir = Join-Path ([IO.Path]::GetTempPath()) "leaktools-xunit-$PID"
    Write-Step 'dotnet test (xunit)'
    & dotnet test $UnitTestProject -c $Configuration --nologo -v quiet --logger 'trx;LogFileName=unit.trx' --results-directory $resultsDir | Out-Host
    $trx = Join-Path $resultsDir 'unit.trx'
    if (-not (Test-Path $trx)) { return [pscustomobject]@{ Passed = 0; Failed = 1 } }
    $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
    $ns = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
    $failures = @(Select-Xml -Path $trx -XPath "//t:UnitTestResult[@outcome!='Passed' and @outcome!='NotExecuted']" -Namespace $ns | ForEach-Object {
        "$($_.Node.testName): $((@($_.Node.Output.ErrorInfo.Message) -join ' ') -split "`n" | Select-Object -First 3)" })
    $result = [pscustomobject]@{ Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted; Failures = $failures }
    Remove-Item -Recurse -Force $resultsDir
    if ($result.Passed + $result.Failed -eq 0) { Write-Host 'xunit ran no test.' -ForegroundColor Red; $result.Failed = 1 }
    return $result
}

function Invoke-Test {
    $passed = 0; $failed = 0; $unit = $null; $pester = $null
    try {
        Invoke-Build
        Invoke-FixtureBuild
        if (-not $SkipUnitTests) {
            $unit = Invoke-UnitTestSuite
            $passed += $unit.Passed; $failed += $unit.Failed
        }
        if (-not $SkipPester) {
            $pester = Invoke-PesterSuite
            $passed += $pester.Passed; $failed += $pester.Failed
        }
    }
    catch {
        Write-Host "Test task failed before all tests ran: $_" -ForegroundColor Red
        $failed += 1
    }
    foreach ($suite in @($unit, $pester) | Where-Object { $_ -and $_.PSObject.Properties['Failures'] }) {
        foreach ($failure in @($suite.Failures) | Where-Object { $_ }) { Write-Host "FAILED: $failure" -ForegroundColor Red }
    }
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    $demo = Join-Path $Root 'scripts/Demo.ps1'
    if (-not (Test-Path $demo)) { Write-Host 'The demo is not there yet.'; return }
    & $demo
    if (-not $?) { exit 1 }
}

function Invoke-Bench {
    Invoke-Build
    Invoke-FixtureBuild
    $bench = Join-Path $Root 'scripts/Bench.ps1'
    if (-not (Test-Path $bench)) { Write-Host 'The benchmarks are not there yet.'; return }
    & $bench
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Clean' {
        foreach ($dir in $BinDir, $NativeBuildDir, (Join-Path $Root 'tests/fixtures/build'), $HelpDir) {
            if (Test-Path $dir) { Remove-Item -Recurse -Force $dir }
        }
        Get-ChildItem -Path $Root -Directory -Recurse -Filter obj | Remove-Item -Recurse -Force
    }
}
