using System.Management.Automation;

namespace LeakTools.Module;

/// <summary>Runs on Import-Module: registers native library resolution before any cmdlet runs.</summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport() => NativeLibraryResolver.EnsureRegistered();
}
