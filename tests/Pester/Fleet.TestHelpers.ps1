# A fleet of SSH hosts on this machine, for the remoting tests (dot-sourced in BeforeAll): each host is a network
# namespace with a veth link to the host, its own address and its own sshd, whose `powershell` subsystem runs the
# pinned pwsh (scripts/Get-PwshCommandLine.ps1). Login is root with a throwaway key. Everything lives under names
# that start with ltfleet (namespaces), ltf- (links) and leaktools-fleet- (temp folders), so Remove-Fleet finds a
# previous run's debris too. Needs root, iproute2, openssh-server and openssh-client (build.ps1 installs them).

$script:FleetNamespacePrefix = 'ltfleet-'
$script:FleetLinkPrefix = 'ltf-'
$script:FleetFolderPrefix = 'leaktools-fleet-'
# 10.213.<index>.0/30 per host: .1 is the host's end of the link, .2 the namespace's.
$script:FleetSubnet = '10.213'

# Runs a native command and throws with its output when it fails.
function Invoke-FleetTool {
    $file, $rest = $args
    $rest = @($rest | ForEach-Object { $_ })
    $output = & $file @rest 2>&1
    if ($LASTEXITCODE -ne 0) { throw "'$file $($rest -join ' ')' failed ($LASTEXITCODE): $($output -join "`n")" }
    $output
}

# Creates the folder that holds the fleet's keys and configurations, and the client key every host accepts.
function New-FleetFolder {
    $folder = Join-Path ([IO.Path]::GetTempPath()) "$FleetFolderPrefix$([guid]::NewGuid().ToString('n'))"
    New-Item -ItemType Directory -Path $folder | Out-Null
    $key = Join-Path $folder 'client_ed25519'
    Invoke-FleetTool ssh-keygen -q -t ed25519 -N '' -C 'leaktools fleet test' -f $key | Out-Null
    Copy-Item "$key.pub" (Join-Path $folder 'authorized_keys')
    [pscustomobject]@{ Path = $folder; KeyFilePath = $key }
}

# Starts host number $Index (1..250) named $Name; returns Name, Namespace, HostName (its address) and Sshd (the sshd process).
function New-FleetHost([int] $Index, [string] $Name, $Folder) {
    $namespace = "$FleetNamespacePrefix$Name"
    $hostLink = "$FleetLinkPrefix$Name-h"
    $address = "$FleetSubnet.$Index.2"
    Invoke-FleetTool ip netns add $namespace
    Invoke-FleetTool ip link add $hostLink type veth peer name "$FleetLinkPrefix$Name-n" netns $namespace
    Invoke-FleetTool ip addr add "$FleetSubnet.$Index.1/30" dev $hostLink
    Invoke-FleetTool ip link set $hostLink up
    Invoke-FleetTool ip -n $namespace addr add "$address/30" dev "$FleetLinkPrefix$Name-n"
    Invoke-FleetTool ip -n $namespace link set "$FleetLinkPrefix$Name-n" up
    Invoke-FleetTool ip -n $namespace link set lo up

    $hostKey = Join-Path $Folder.Path "$Name-host_ed25519"
    Invoke-FleetTool ssh-keygen -q -t ed25519 -N '' -C "leaktools fleet $Name" -f $hostKey | Out-Null
    # The subsystem runs through the login shell: quote each word for sh.
    $pwsh = (@(& "$PSScriptRoot/../../scripts/Get-PwshCommandLine.ps1") | ForEach-Object { "'$_'" }) -join ' '
    $config = Join-Path $Folder.Path "$Name-sshd_config"
    Set-Content -LiteralPath $config -Value @(
        "ListenAddress $address"
        "HostKey $hostKey"
        "PidFile $(Join-Path $Folder.Path "$Name-sshd.pid")"
        "AuthorizedKeysFile $(Join-Path $Folder.Path 'authorized_keys')"
        'PermitRootLogin prohibit-password'
        'PasswordAuthentication no'
        'KbdInteractiveAuthentication no'
        'UsePAM no'
        # The temp folder is not root's home: skip sshd's ownership checks of it.
        'StrictModes no'
        "Subsystem powershell $pwsh -sshs -NoLogo -NoProfile")
    # sshd's privilege separation needs this folder; the openssh-server service would create it.
    if (-not (Test-Path /run/sshd)) {
        New-Item -ItemType Directory -Path /run/sshd | Out-Null
        $script:FleetMadeRunSshd = $true
    }
    Invoke-FleetTool ip netns exec $namespace /usr/sbin/sshd -t -f $config | Out-Null
    # `ip netns exec` execs sshd in the namespace, so the process started is sshd itself (-D: in the foreground).
    $sshd = Start-Process -FilePath ip -ArgumentList netns, exec, $namespace, /usr/sbin/sshd, -D, -e, -f, $config `
        -RedirectStandardError (Join-Path $Folder.Path "$Name-sshd.log") -PassThru
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while (-not (Test-FleetPort $address) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
    if (-not (Test-FleetPort $address)) {
        throw "sshd of fleet host $Name did not listen on $address`:22: $(Get-Content -Raw (Join-Path $Folder.Path "$Name-sshd.log"))"
    }
    # HostName, not Address: an array has an Address method, which would hide $fleet.Address.
    [pscustomobject]@{ Name = $Name; Namespace = $namespace; HostName = $address; Sshd = $sshd }
}

# Whether something accepts TCP connections on $Address port 22.
function Test-FleetPort([string] $Address) {
    $client = [Net.Sockets.TcpClient]::new()
    try { $client.ConnectAsync($Address, 22).Wait(1000) } catch { $false } finally { $client.Dispose() }
}

# Ends everything of this and earlier fleets: the processes in their namespaces (sshd, its sessions and what
# they started), the namespaces (which takes their links along), stray host ends of links, and the temp folders.
function Remove-Fleet {
    $namespaces = @(& ip netns list 2>$null | ForEach-Object { ($_ -split ' ')[0] } | Where-Object { $_ -like "$FleetNamespacePrefix*" })
    foreach ($namespace in $namespaces) {
        foreach ($id in @(& ip netns pids $namespace 2>$null)) {
            Stop-Process -Id ([int]$id) -Force -ErrorAction Ignore
        }
        & ip netns delete $namespace 2>$null
    }
    $links = @(& ip -o link show 2>$null | ForEach-Object { if ($_ -match "^\d+: ($FleetLinkPrefix[^@:]+)") { $Matches[1] } })
    foreach ($link in $links) { & ip link delete $link 2>$null }
    Get-ChildItem -LiteralPath ([IO.Path]::GetTempPath()) -Directory -Filter "$FleetFolderPrefix*" -ErrorAction Ignore |
        Remove-Item -Recurse -Force -ErrorAction Ignore
    if ((Get-Variable FleetMadeRunSshd -Scope Script -ValueOnly -ErrorAction Ignore)) {
        Remove-Item -LiteralPath /run/sshd -ErrorAction Ignore
        $script:FleetMadeRunSshd = $false
    }
}

# What every Invoke-Command to the fleet passes: root with the fleet's key, and a host key that is new each run
# accepted without a known_hosts file.
function Get-FleetConnection($Folder) {
    @{
        UserName    = 'root'
        KeyFilePath = $Folder.KeyFilePath
        Options     = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR'; ConnectTimeout = '10' }
    }
}
