@{
    # ModuleVersion is rewritten by build.ps1 from the assembly version in src/LeakCmdlets/LeakCmdlets.csproj.
    ModuleVersion        = '0.1.0'
    GUID                 = '6f1d0c47-2a7e-4b8e-9a55-3c1e4f1b9d21'
    RootModule           = 'bin/LeakTools.dll'
    Author               = 'LeakTools developers'
    CompanyName          = 'LeakTools'
    Copyright            = '(c) LeakTools developers. MIT License.'
    Description          = 'Find memory leaks on Linux from PowerShell: procfs memory views, eBPF allocation tracing with container-aware symbols, and flame graphs.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    CmdletsToExport      = @(
        'Get-VmStat'
        'Get-ProcessMemory'
        'Get-ProcessMemoryMap'
        'Compare-ProcessMemoryMap'
        'Find-MemoryLeak'
        'Watch-Allocation'
        'Export-FlameGraph'
        'Compare-MemoryLeak'
        'Export-MemoryProfile'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    FormatsToProcess     = @(
        'bin/LeakTools.Procfs.format.ps1xml'
        'bin/LeakTools.Tracing.format.ps1xml'
        'bin/LeakTools.Export.format.ps1xml'
        'bin/LeakTools.Comparison.format.ps1xml'
    )
    # Serialization depths, so objects keep their stacks and counters through remoting and Export-Clixml.
    TypesToProcess       = @('bin/LeakTools.types.ps1xml')
    PrivateData          = @{
        PSData = @{
            Tags       = @('Linux', 'Memory', 'Leak', 'eBPF', 'procfs')
            ProjectUri = ''
        }
    }
}
