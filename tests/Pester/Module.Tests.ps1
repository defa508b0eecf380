BeforeAll {
    $root = Resolve-Path "$PSScriptRoot/../.."
    Import-Module "$root/LeakTools.psd1" -Force
}

Describe 'LeakTools module' {
    It 'exports every cmdlet named in the manifest' {
        $manifest = Import-PowerShellDataFile "$root/LeakTools.psd1"
        $exported = (Get-Module LeakTools).ExportedCmdlets.Keys | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'has a ModuleVersion equal to the assembly version' {
        $module = Get-Module LeakTools
        $assembly = [System.Reflection.AssemblyName]::GetAssemblyName("$root/bin/LeakTools.dll")
        $module.Version.ToString(3) | Should -Be $assembly.Version.ToString(3)
    }
}
