<#
.SYNOPSIS
    The PowerShell that runs the caller, as the command line that starts a fresh one.
.DESCRIPTION
    Returns the executable first, then its arguments. Under 'dotnet pwsh' (the pinned local tool) the process
    is dotnet itself, so pwsh.dll has to be passed as its first argument.
#>
$exe = [Environment]::ProcessPath
if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, (Join-Path $PSHOME 'pwsh.dll')) }
return @($exe)
