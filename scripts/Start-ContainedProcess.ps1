#Requires -Version 7.4
<#
.SYNOPSIS
    Runs a program the way a container would: as /app, in its own mount namespace, with its own copy
    of its libraries.

.DESCRIPTION
    Contract (shared by the tests and the demo; keep it stable):

        $app = & scripts/Start-ContainedProcess.ps1 -Path <binary> [-ArgumentList <string[]>]
                                                    [-StandardOutputPath <file>] [-PrepareRoot <sh commands>]
        $app.ProcessId           # pid (host view) of the running /app
        $app.LauncherProcessId   # pid of the unshare process that owns the namespace
        Stop-Process -Id $app.ProcessId   # stops it; the launcher then exits too

    How: `unshare --mount --fork --kill-child` starts a shell in a new mount namespace. The shell makes
    every mount private, mounts a tmpfs, copies the binary to <tmpfs>/app and each library that ldd lists
    plus the dynamic loader to the same paths inside the tmpfs, pivot_roots into the tmpfs, detaches the
    old root and execs /app. So the host has no /app, and the target maps its own copy of libc: a tracer
    that probes the host's libc sees nothing, one that reads /proc/PID/root sees everything.
    Killing the launcher kills /app too (--kill-child), and when /app exits the launcher exits.

    The script returns once /app runs and has mapped its libraries (so probes can attach at once).
    Needs root (mount namespaces, mount, pivot_root).

.PARAMETER Path
    The executable to run as /app. Dynamically linked programs get the libraries ldd reports.

.PARAMETER ArgumentList
    Arguments for /app.

.PARAMETER StandardOutputPath
    Where /app's standard output and error go. By default they go to this session's console.

.PARAMETER PrepareRoot
    Shell commands (sh) that shape the container's file system: they run inside the namespace with the new
    root as the current directory, after the copies and before pivot_root, so relative paths name files inside
    the container and absolute ones the host's. $$ is /app's pid. E.g. to plant a hostile symlink:
    'mkdir -p usr/lib/debug && ln -s /etc/shadow usr/lib/debug/x.debug'.

.PARAMETER TimeoutSeconds
    How long to wait for /app to start before giving up (and cleaning up).

.OUTPUTS
    [pscustomobject] with ProcessId and LauncherProcessId.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Path,

    [string[]] $ArgumentList = @(),

    [string] $StandardOutputPath,

    [string] $PrepareRoot = '',

    [double] $TimeoutSeconds = 10
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$binary = (Resolve-Path -LiteralPath $Path).ProviderPath

# Libraries and loader as absolute paths, the way the dynamic loader will look for them.
$libraries = @(& ldd $binary 2>$null | ForEach-Object {
        if ($_ -match '=>\s*(/\S+)') { $Matches[1] }
        elseif ($_ -match '^\s*(/\S+)\s') { $Matches[1] }
    } | Select-Object -Unique)

# Where the tmpfs is mounted inside the namespace before pivot_root. On the host it stays an empty directory,
# removed once /app runs (by then it is no mount point anywhere).
$mountPoint = Join-Path ([IO.Path]::GetTempPath()) "leaktools-app-$([guid]::NewGuid().ToString('n'))"
New-Item -ItemType Directory -Path $mountPoint | Out-Null

# Runs inside the new namespace. $1 = mount point, $2 = binary, $3 = commands that prepare the root,
# $4 = number of libraries, then the libraries, then /app's arguments.
# After `pivot_root . .oldroot` the old root is still reachable at /.oldroot; umount itself lives there,
# so it runs through the copied loader with the old root's library directories (and reads the new /proc).
$script = @'
set -e
root="$1"; binary="$2"; prepare="$3"; count="$4"; shift 4
mount --make-rprivate /
mount -t tmpfs -o mode=0755 leaktools-app "$root"
cp "$binary" "$root/app"
libs=""
while [ "$count" -gt 0 ]; do
    mkdir -p "$root$(dirname "$1")"
    cp -L "$1" "$root$1"
    libs="$libs $1"
    count=$((count - 1)); shift
done
mkdir -p "$root/.oldroot" "$root/tmp" "$root/proc"
(cd "$root" && eval "$prepare")
mount -t proc proc "$root/proc"
cd "$root"
pivot_root . .oldroot
cd /
loader=""
for lib in $libs; do case "$lib" in */ld-linux*) loader="$lib";; esac; done
if [ -n "$loader" ]; then
    "$loader" --library-path /.oldroot/lib/x86_64-linux-gnu:/.oldroot/usr/lib/x86_64-linux-gnu:/.oldroot/lib64 \
        /.oldroot/usr/bin/umount -l /.oldroot || true
fi
exec /app "$@"
'@

if ($StandardOutputPath) {
    # The shell redirects, so /app writes straight to the file and nothing of ours sits in between.
    $script = "exec >'$($StandardOutputPath.Replace("'", "'\''"))' 2>&1`n" + $script
}
$startInfo = [System.Diagnostics.ProcessStartInfo]::new('unshare')
$startInfo.UseShellExecute = $false
# unshare complains on stderr when /app is killed; with output going to a file, keep that off the console.
$startInfo.RedirectStandardError = [bool]$StandardOutputPath
foreach ($argument in @('--mount', '--fork', '--kill-child', '--', '/bin/sh', '-c', $script, 'leaktools-app', $mountPoint, $binary, $PrepareRoot, $libraries.Count) + $libraries + $ArgumentList) {
    $startInfo.ArgumentList.Add([string]$argument)
}
$launcher = [System.Diagnostics.Process]::Start($startInfo)
if ($StandardOutputPath) { $launcher.BeginErrorReadLine() }

# The shell that unshare forks becomes /app by exec; wait for that, and for its libraries to be mapped.
$deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
$appPid = $null
while ([DateTime]::UtcNow -lt $deadline -and -not $launcher.HasExited) {
    $children = Get-Content -LiteralPath "/proc/$($launcher.Id)/task/$($launcher.Id)/children" -ErrorAction Ignore
    foreach ($child in "$children".Split(' ', [StringSplitOptions]::RemoveEmptyEntries)) {
        $exe = (Get-Item -LiteralPath "/proc/$child/exe" -ErrorAction Ignore).LinkTarget
        if ($exe -eq '/app') {
            $maps = Get-Content -LiteralPath "/proc/$child/maps" -Raw -ErrorAction Ignore
            $libc = $libraries | Where-Object { $_ -like '*/libc.so*' }
            if (-not $libc -or ($maps -and $maps.Contains('libc.so'))) { $appPid = [int]$child }
        }
    }
    if ($appPid) { break }
    Start-Sleep -Milliseconds 20
}

if (-not $appPid -and -not $launcher.HasExited) { $launcher.Kill(); $launcher.WaitForExit(2000) | Out-Null }
Remove-Item -LiteralPath $mountPoint -ErrorAction Ignore
if (-not $appPid) {
    $reason = if ($launcher.HasExited) { "the launcher exited with code $($launcher.ExitCode)" } else { "it did not start within $TimeoutSeconds s" }
    throw "Could not start '$binary' as /app in its own mount namespace: $reason."
}

[pscustomobject]@{
    ProcessId         = $appPid
    LauncherProcessId = $launcher.Id
}
