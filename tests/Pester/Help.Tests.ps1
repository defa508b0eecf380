BeforeDiscovery {
    $manifest = Import-PowerShellDataFile "$PSScriptRoot/../../LeakTools.psd1"
    $commands = @($manifest.CmdletsToExport | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    Import-Module "$PSScriptRoot/../../LeakTools.psd1" -Force
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Get-Help <Name>' -ForEach $commands {
    BeforeAll {
        $command = Get-Command -Name $Name -Module LeakTools -ErrorAction Ignore
        # Get-Help on an unknown name searches; ask only for a command that exists.
        $help = if ($command) { Get-Help -Name $Name -Full } else { $null }
    }

    BeforeEach {
        $command | Should -Not -BeNullOrEmpty -Because "LeakTools must export $Name"
        $help.Name | Should -Be $Name
    }

    It 'comes from the module''s help file, not from the generated stub' {
        # Without a help file, Get-Help makes up a synopsis from the syntax line.
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$([regex]::Escape($Name))\s+\["
        $help.Synopsis.Length | Should -BeGreaterThan 20
    }

    It 'has a description' {
        ($help.description.Text -join ' ').Length | Should -BeGreaterThan 80
    }

    It 'describes every parameter' {
        $expected = @($command.Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object)
        $documented = @($help.parameters.parameter | Where-Object { ($_.description.Text -join '').Trim().Length -gt 10 } | ForEach-Object name | Sort-Object)
        $expected.Count | Should -BeGreaterThan 0
        $documented | Should -Be $expected
    }

    It 'shows each parameter set in its syntax' {
        @($help.syntax.syntaxItem).Count | Should -Be @($command.ParameterSets).Count
    }

    It 'has at least two examples, each with code and an explanation' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            $example.code | Should -Match ([regex]::Escape($Name))
            ($example.remarks.Text -join ' ').Trim().Length | Should -BeGreaterThan 10
        }
    }

    It 'names its output types, including every [OutputType]' {
        $documented = @($help.returnValues.returnValue | ForEach-Object { $_.type.name })
        $documented.Count | Should -BeGreaterThan 0
        foreach ($type in $command.OutputType) { $documented | Should -Contain $type.Name }
    }
}

Describe 'Get-Help about_LeakTools' {
    It 'shows the topic with privileges and kernel requirements' {
        $text = Get-Help about_LeakTools | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'CAP_BPF'
        $text | Should -Match 'CAP_PERFMON'
        $text | Should -Match 'CAP_SYS_PTRACE'
        $text | Should -Match 'BTF'
        $text | Should -Match 'Find-MemoryLeak'
    }
}

Describe 'Tab completion of -Name' {
    BeforeAll {
        # A process with a name nothing else on the machine has: a copy of sleep under that name.
        $dir = Join-Path ([IO.Path]::GetTempPath()) "leaktools-complete-$PID"
        New-Item -ItemType Directory -Force -Path $dir | Out-Null
        $uniqueName = 'lkcmp' + (Get-Random -Minimum 100000 -Maximum 999999)
        Copy-Item (Get-Command sleep -CommandType Application | Select-Object -First 1).Source (Join-Path $dir $uniqueName)
        $process = Start-Process -FilePath (Join-Path $dir $uniqueName) -ArgumentList 60 -PassThru
        # Completion reads /proc/PID/comm; wait until the exec has renamed the child.
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while ((Get-Content "/proc/$($process.Id)/comm" -ErrorAction Ignore) -ne $uniqueName -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
    }

    AfterAll {
        if ($process -and -not $process.HasExited) { $process.Kill(); $process.WaitForExit() }
        Remove-Item -Recurse -Force $dir -ErrorAction Ignore
    }

    It 'completes a running process''s name from a prefix' {
        $line = "Get-ProcessMemory -Name $($uniqueName.Substring(0, 8))"
        $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $result.CompletionMatches.CompletionText | Should -Contain $uniqueName
        $result.CompletionMatches | Where-Object CompletionText -NotLike "$($uniqueName.Substring(0, 8))*" | Should -BeNullOrEmpty
        # The completer is the module's, not file-name completion: a prefix no process has offers nothing.
        $none = "Get-ProcessMemory -Name zz$($uniqueName)nothing"
        (TabExpansion2 -inputScript $none -cursorColumn $none.Length).CompletionMatches | Should -BeNullOrEmpty
    }
}
