#Requires -Version 7.4
<#
.SYNOPSIS
    Turns docs/cmdlets/<Name>.md into MAML help (LeakTools.dll-Help.xml) and docs/about_LeakTools.md
    into about_LeakTools.help.txt.

.DESCRIPTION
    platyPS is not reachable from the build machine, so this is a small replacement for its
    New-ExternalHelp. The prose (synopsis, description, parameter text, examples, outputs, notes) comes
    from the markdown; the syntax, parameter types, positions, pipeline input, aliases and defaults come
    from the compiled cmdlets themselves, so the help cannot drift from the code.

    The markdown shape, with the headings exactly so:
        # Verb-Noun / ## SYNOPSIS / ## DESCRIPTION / ## PARAMETERS (### -Name) /
        ## EXAMPLES (### Example N: Title, a ```powershell fence, remarks) / ## OUTPUTS (### Type.Name) / ## NOTES

.PARAMETER OutputDirectory
    Where to write the help files: build.ps1 passes its $HelpDir, the en-US folder next to LeakTools.psd1.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $OutputDirectory
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Root = Resolve-Path (Join-Path $PSScriptRoot '..')
$DocsDir = Join-Path $Root 'docs'
$CmdletDocsDir = Join-Path $DocsDir 'cmdlets'
$MamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$CommandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$DevNs = 'http://schemas.microsoft.com/maml/dev/2004/10'

# ---------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------

# Splits markdown into sections by heading level: returns ordered (Title, Lines) pairs.
function Split-MarkdownSection([string[]] $Lines, [int] $Level) {
    $marker = ('#' * $Level) + ' '
    $sections = [System.Collections.Generic.List[object]]::new()
    $current = $null
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line.TrimStart().StartsWith('```')) { $inFence = -not $inFence }
        if (-not $inFence -and $line.StartsWith($marker)) {
            $current = [pscustomobject]@{ Title = $line.Substring($marker.Length).Trim(); Lines = [System.Collections.Generic.List[string]]::new() }
            $sections.Add($current)
        }
        elseif ($null -ne $current) { $current.Lines.Add($line) }
    }
    return $sections
}

# Inline markdown that reads badly in a console: `code`, **bold**, [text](link).
function ConvertFrom-InlineMarkdown([string] $Text) {
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)]+)\)', '$1 ($2)')
    $Text = $Text -replace '\*\*([^*]+)\*\*', '$1'
    $Text = $Text -replace '`([^`]+)`', '$1'
    return $Text
}

# Markdown block text -> paragraphs: blank lines separate paragraphs, list items stay one per paragraph,
# fenced code keeps its lines (indented) as one paragraph.
function ConvertTo-Paragraph([string[]] $Lines) {
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $buffer = [System.Collections.Generic.List[string]]::new()
    $code = $null
    $flush = {
        if ($buffer.Count -gt 0) { $paragraphs.Add((ConvertFrom-InlineMarkdown (($buffer | ForEach-Object Trim) -join ' '))); $buffer.Clear() }
    }
    foreach ($line in $Lines) {
        if ($line.TrimStart().StartsWith('```')) {
            if ($null -eq $code) { . $flush; $code = [System.Collections.Generic.List[string]]::new() }
            else { $paragraphs.Add((($code | ForEach-Object { "    $_" }) -join "`n")); $code = $null }
            continue
        }
        if ($null -ne $code) { $code.Add($line); continue }
        if ([string]::IsNullOrWhiteSpace($line)) { . $flush; continue }
        if ($line -match '^\s*([-*]|\d+\.)\s+') { . $flush }
        $buffer.Add($line)
    }
    . $flush
    return $paragraphs
}

function Read-CmdletMarkdown([string] $Path) {
    $lines = Get-Content -LiteralPath $Path
    $top = @(Split-MarkdownSection $lines 1)
    if ($top.Count -ne 1) { throw "$Path must have exactly one '# Verb-Noun' heading." }
    $doc = [ordered]@{ Name = $top[0].Title; Synopsis = ''; Description = @(); Parameters = @{}; Examples = @(); Outputs = @(); Inputs = @(); Notes = @() }
    foreach ($section in Split-MarkdownSection $top[0].Lines 2) {
        switch ($section.Title) {
            'SYNOPSIS' { $doc.Synopsis = (ConvertTo-Paragraph $section.Lines) -join ' ' }
            'DESCRIPTION' { $doc.Description = @(ConvertTo-Paragraph $section.Lines) }
            'NOTES' { $doc.Notes = @(ConvertTo-Paragraph $section.Lines) }
            'PARAMETERS' {
                foreach ($p in Split-MarkdownSection $section.Lines 3) {
                    $doc.Parameters[$p.Title.TrimStart('-')] = @(ConvertTo-Paragraph $p.Lines)
                }
            }
            { $_ -in 'OUTPUTS', 'INPUTS' } {
                $items = foreach ($t in Split-MarkdownSection $section.Lines 3) {
                    [pscustomobject]@{ Type = $t.Title; Description = @(ConvertTo-Paragraph $t.Lines) }
                }
                if ($section.Title -eq 'OUTPUTS') { $doc.Outputs = @($items) } else { $doc.Inputs = @($items) }
            }
            'EXAMPLES' {
                $doc.Examples = @(foreach ($e in Split-MarkdownSection $section.Lines 3) {
                        $fenceStart = -1; $fenceEnd = -1
                        for ($i = 0; $i -lt $e.Lines.Count; $i++) {
                            if ($e.Lines[$i].TrimStart().StartsWith('```')) {
                                if ($fenceStart -lt 0) { $fenceStart = $i } else { $fenceEnd = $i; break }
                            }
                        }
                        if ($fenceEnd -lt 0) { throw "$Path, '$($e.Title)': an example needs a ``````powershell code fence." }
                        [pscustomobject]@{
                            Title        = $e.Title
                            Introduction = @(ConvertTo-Paragraph @($e.Lines | Select-Object -First $fenceStart))
                            Code         = (@($e.Lines)[($fenceStart + 1)..($fenceEnd - 1)]) -join "`n"
                            Remarks      = @(ConvertTo-Paragraph @($e.Lines | Select-Object -Skip ($fenceEnd + 1)))
                        }
                    })
            }
            default { Write-Warning "$Path has an unknown section '## $($section.Title)'; it is left out of the help." }
        }
    }
    return [pscustomobject]$doc
}

# ---------------------------------------------------------------------------------------------------
# MAML
# ---------------------------------------------------------------------------------------------------

function Write-Para([System.Xml.XmlWriter] $Xml, [string[]] $Paragraphs) {
    $Xml.WriteStartElement('maml', 'description', $MamlNs)
    foreach ($p in @($Paragraphs | Where-Object { $_ })) { $Xml.WriteElementString('maml', 'para', $MamlNs, $p) }
    if (-not @($Paragraphs | Where-Object { $_ })) { $Xml.WriteElementString('maml', 'para', $MamlNs, '') }
    $Xml.WriteEndElement()
}

function Write-DevType([System.Xml.XmlWriter] $Xml, [string] $TypeName) {
    $Xml.WriteStartElement('dev', 'type', $DevNs)
    $Xml.WriteElementString('maml', 'name', $MamlNs, $TypeName)
    $Xml.WriteElementString('maml', 'uri', $MamlNs, '')
    $Xml.WriteEndElement()
}

function Get-PipelineInput([System.Management.Automation.ParameterMetadata] $Meta, [string] $SetName) {
    $kinds = foreach ($attr in $Meta.Attributes) {
        if ($attr -is [System.Management.Automation.ParameterAttribute] -and
            ($attr.ParameterSetName -eq $SetName -or $attr.ParameterSetName -eq '__AllParameterSets' -or -not $SetName)) {
            if ($attr.ValueFromPipeline) { 'ByValue' }
            if ($attr.ValueFromPipelineByPropertyName) { 'ByPropertyName' }
        }
    }
    $kinds = @($kinds | Select-Object -Unique)
    if ($kinds.Count -eq 0) { return 'False' }
    return "True ($($kinds -join ', '))"
}

function Get-ShortTypeName([type] $Type) {
    if ($Type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    # A Nullable<double> parameter reads as Double: the value a user types, not Nullable`1.
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { return $underlying.Name }
    return $Type.Name
}

# One <command:parameter>. $Info is a CommandParameterInfo (syntax, per set) or $null (the parameters list).
function Write-Parameter {
    param($Xml, $Command, [string] $Name, $Info, [string] $SetName, [string[]] $Description, $Defaults)
    $meta = $Command.Parameters[$Name]
    $isSwitch = $meta.SwitchParameter
    $paramAttrs = @($meta.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
    $required = if ($Info) { $Info.IsMandatory } else { [bool]($paramAttrs | Where-Object Mandatory) }
    $position = if ($Info) { $Info.Position } else { $paramAttrs | Where-Object Position -GE 0 | ForEach-Object Position | Select-Object -First 1 }
    $globbing = [bool]($meta.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })

    $Xml.WriteStartElement('command', 'parameter', $CommandNs)
    $Xml.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $Xml.WriteAttributeString('variableLength', $meta.ParameterType.IsArray.ToString().ToLowerInvariant())
    $Xml.WriteAttributeString('globbing', $globbing.ToString().ToLowerInvariant())
    $Xml.WriteAttributeString('pipelineInput', (Get-PipelineInput $meta $SetName))
    $Xml.WriteAttributeString('position', $(if ($null -ne $position -and $position -ge 0) { "$position" } else { 'named' }))
    $Xml.WriteAttributeString('aliases', $(if ($meta.Aliases.Count) { $meta.Aliases -join ', ' } else { 'none' }))
    $Xml.WriteElementString('maml', 'name', $MamlNs, $Name)
    Write-Para $Xml $Description

    $valueType = if ($meta.ParameterType.IsArray) { $meta.ParameterType.GetElementType() } else { $meta.ParameterType }
    if ($valueType.IsEnum) {
        $Xml.WriteStartElement('command', 'parameterValueGroup', $CommandNs)
        foreach ($v in [enum]::GetNames($valueType)) {
            $Xml.WriteStartElement('command', 'parameterValue', $CommandNs)
            $Xml.WriteAttributeString('required', 'false')
            $Xml.WriteAttributeString('command', 'variableLength', $CommandNs, 'false')
            $Xml.WriteString($v)
            $Xml.WriteEndElement()
        }
        $Xml.WriteEndElement()
    }
    if (-not $isSwitch -or -not $Info) {
        $Xml.WriteStartElement('command', 'parameterValue', $CommandNs)
        $Xml.WriteAttributeString('required', (-not $isSwitch).ToString().ToLowerInvariant())
        $Xml.WriteAttributeString('variableLength', $meta.ParameterType.IsArray.ToString().ToLowerInvariant())
        $Xml.WriteString((Get-ShortTypeName $meta.ParameterType))
        $Xml.WriteEndElement()
    }
    $devType = [Nullable]::GetUnderlyingType($meta.ParameterType) ?? $meta.ParameterType
    Write-DevType $Xml $devType.FullName
    $default = $Defaults[$Name]
    $Xml.WriteElementString('dev', 'defaultValue', $DevNs, $(if ($null -ne $default) { "$default" } else { 'None' }))
    $Xml.WriteEndElement()
}

# <command:inputTypes> or <command:returnValues>: one (type, description) entry per item.
function Write-TypeList([System.Xml.XmlWriter] $Xml, [string] $ListElement, [string] $ItemElement, [object[]] $Items) {
    $Xml.WriteStartElement('command', $ListElement, $CommandNs)
    foreach ($item in $Items) {
        $Xml.WriteStartElement('command', $ItemElement, $CommandNs)
        Write-DevType $Xml $item.Type
        Write-Para $Xml $item.Description
        $Xml.WriteEndElement()
    }
    $Xml.WriteEndElement()
}

# Default values as a freshly constructed cmdlet has them; unset (null, false, empty) means "None".
function Get-ParameterDefault($Command, [string[]] $Names) {
    $defaults = @{}
    try { $instance = [Activator]::CreateInstance($Command.ImplementingType) } catch { return $defaults }
    foreach ($name in $Names) {
        $property = $Command.ImplementingType.GetProperty($name)
        if (-not $property) { continue }
        $value = $property.GetValue($instance)
        if ($null -eq $value -or $value -is [System.Management.Automation.SwitchParameter] -or $value -is [bool] -or
            ($value -is [string] -and $value -eq '') -or ($value -is [array] -and $value.Count -eq 0)) { continue }
        $defaults[$name] = $value
    }
    return $defaults
}

function Write-CommandHelp([System.Xml.XmlWriter] $Xml, $Doc, [System.Management.Automation.CmdletInfo] $Command) {
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    $names = @($Command.Parameters.Keys | Where-Object { $_ -notin $common })
    foreach ($n in $names) {
        if (-not $Doc.Parameters.ContainsKey($n)) { Write-Warning "docs/cmdlets/$($Command.Name).md does not describe -$n." }
    }
    foreach ($n in $Doc.Parameters.Keys) {
        if ($n -notin $names) { Write-Warning "docs/cmdlets/$($Command.Name).md describes -$n, which $($Command.Name) does not have." }
    }
    $defaults = Get-ParameterDefault $Command $names

    $Xml.WriteStartElement('command', 'command', $CommandNs)
    $Xml.WriteAttributeString('xmlns', 'maml', $null, $MamlNs)
    $Xml.WriteAttributeString('xmlns', 'command', $null, $CommandNs)
    $Xml.WriteAttributeString('xmlns', 'dev', $null, $DevNs)

    $Xml.WriteStartElement('command', 'details', $CommandNs)
    $Xml.WriteElementString('command', 'name', $CommandNs, $Command.Name)
    $Xml.WriteElementString('command', 'verb', $CommandNs, $Command.Verb)
    $Xml.WriteElementString('command', 'noun', $CommandNs, $Command.Noun)
    Write-Para $Xml @($Doc.Synopsis)
    $Xml.WriteEndElement()

    Write-Para $Xml $Doc.Description

    $Xml.WriteStartElement('command', 'syntax', $CommandNs)
    foreach ($set in $Command.ParameterSets) {
        $Xml.WriteStartElement('command', 'syntaxItem', $CommandNs)
        $Xml.WriteElementString('maml', 'name', $MamlNs, $Command.Name)
        # Positional first, in position order, then the rest as declared: the order Get-Command -Syntax uses.
        $ordered = @($set.Parameters | Where-Object { $_.Name -notin $common }) |
            Sort-Object @{ Expression = { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } } }, @{ Expression = { -not $_.IsMandatory } }
        foreach ($p in $ordered) {
            Write-Parameter -Xml $Xml -Command $Command -Name $p.Name -Info $p -SetName $set.Name -Description $Doc.Parameters[$p.Name] -Defaults $defaults
        }
        $Xml.WriteEndElement()
    }
    $Xml.WriteEndElement()

    $Xml.WriteStartElement('command', 'parameters', $CommandNs)
    foreach ($n in $names) {
        Write-Parameter -Xml $Xml -Command $Command -Name $n -Info $null -SetName $null -Description $Doc.Parameters[$n] -Defaults $defaults
    }
    $Xml.WriteEndElement()

    # Inputs: from the markdown when given, else from the parameters that take pipeline input.
    $inputs = @($Doc.Inputs)
    if ($inputs.Count -eq 0) {
        $inputs = @(foreach ($n in $names) {
                $meta = $Command.Parameters[$n]
                $attrs = @($meta.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
                if ($attrs | Where-Object ValueFromPipeline) {
                    [pscustomobject]@{ Type = $meta.ParameterType.FullName -replace '\[\]$', ''; Description = @("Objects for -$n, through the pipeline.") }
                }
                elseif ($attrs | Where-Object ValueFromPipelineByPropertyName) {
                    [pscustomobject]@{ Type = 'System.Management.Automation.PSObject'; Description = @("Objects with the property $n (or one of its aliases) bind -$n by property name.") }
                }
            })
    }
    Write-TypeList $Xml 'inputTypes' 'inputType' $inputs

    # Outputs: the markdown's prose, checked against [OutputType] so the two cannot disagree silently.
    $declared = @($Command.OutputType | ForEach-Object Name)
    foreach ($o in $Doc.Outputs) {
        if ($declared -and $o.Type -notin $declared) { Write-Warning "docs/cmdlets/$($Command.Name).md lists output $($o.Type), which [OutputType] does not declare ($($declared -join ', '))." }
    }
    $outputs = @($Doc.Outputs)
    foreach ($d in $declared) {
        if ($d -notin @($outputs | ForEach-Object Type)) { $outputs += [pscustomobject]@{ Type = $d; Description = @() } }
    }
    Write-TypeList $Xml 'returnValues' 'returnValue' $outputs

    if ($Doc.Notes.Count) {
        $Xml.WriteStartElement('maml', 'alertSet', $MamlNs)
        $Xml.WriteStartElement('maml', 'alert', $MamlNs)
        foreach ($p in $Doc.Notes) { $Xml.WriteElementString('maml', 'para', $MamlNs, $p) }
        $Xml.WriteEndElement()
        $Xml.WriteEndElement()
    }

    $Xml.WriteStartElement('command', 'examples', $CommandNs)
    foreach ($e in $Doc.Examples) {
        $Xml.WriteStartElement('command', 'example', $CommandNs)
        $Xml.WriteElementString('maml', 'title', $MamlNs, "--------- $($e.Title) ---------")
        if ($e.Introduction.Count) {
            $Xml.WriteStartElement('maml', 'introduction', $MamlNs)
            foreach ($p in $e.Introduction) { $Xml.WriteElementString('maml', 'para', $MamlNs, $p) }
            $Xml.WriteEndElement()
        }
        $Xml.WriteElementString('dev', 'code', $DevNs, $e.Code)
        $Xml.WriteStartElement('dev', 'remarks', $DevNs)
        foreach ($p in $e.Remarks) { $Xml.WriteElementString('maml', 'para', $MamlNs, $p) }
        # Get-Help prints remarks flush against the next example's title without a closing empty paragraph.
        $Xml.WriteElementString('maml', 'para', $MamlNs, '')
        $Xml.WriteEndElement()
        $Xml.WriteEndElement()
    }
    $Xml.WriteEndElement()

    $Xml.WriteStartElement('command', 'relatedLinks', $CommandNs)
    $Xml.WriteStartElement('maml', 'navigationLink', $MamlNs)
    $Xml.WriteElementString('maml', 'linkText', $MamlNs, 'about_LeakTools')
    $Xml.WriteElementString('maml', 'uri', $MamlNs, '')
    $Xml.WriteEndElement()
    $Xml.WriteEndElement()

    $Xml.WriteEndElement()
}

# ---------------------------------------------------------------------------------------------------
# about_ topic
# ---------------------------------------------------------------------------------------------------

function Format-Wrapped([string] $Text, [int] $Indent, [int] $Width = 80) {
    $pad = ' ' * $Indent
    $lines = [System.Collections.Generic.List[string]]::new()
    $line = ''
    foreach ($word in $Text -split '\s+' | Where-Object { $_ }) {
        if ($line -and ($pad.Length + $line.Length + 1 + $word.Length) -gt $Width) { $lines.Add($pad + $line); $line = $word }
        elseif ($line) { $line += " $word" }
        else { $line = $word }
    }
    if ($line) { $lines.Add($pad + $line) }
    return $lines
}

# Markdown -> the plain-text layout of PowerShell's own about_ topics: headings in capitals at the margin,
# text indented by four, code by eight.
function ConvertTo-AboutText([string] $Path) {
    $lines = Get-Content -LiteralPath $Path
    $top = @(Split-MarkdownSection $lines 1)
    if ($top.Count -ne 1 -or $top[0].Title -notmatch '^about_') { throw "$Path must start with a single '# about_Name' heading." }
    $out = [System.Collections.Generic.List[string]]::new()
    $out.Add('TOPIC'); $out.Add("    $($top[0].Title)"); $out.Add('')
    foreach ($section in Split-MarkdownSection $top[0].Lines 2) {
        $out.Add($section.Title.ToUpperInvariant())
        # A section's text, with '### ' subheadings cut in: (subheading or $null, lines) blocks in order.
        $blocks = [System.Collections.Generic.List[object]]::new()
        $block = [pscustomobject]@{ Title = $null; Lines = [System.Collections.Generic.List[string]]::new() }
        $blocks.Add($block)
        $inFence = $false
        foreach ($line in $section.Lines) {
            if ($line.TrimStart().StartsWith('```')) { $inFence = -not $inFence }
            if (-not $inFence -and $line.StartsWith('### ')) {
                $block = [pscustomobject]@{ Title = $line.Substring(4).Trim(); Lines = [System.Collections.Generic.List[string]]::new() }
                $blocks.Add($block)
            }
            else { $block.Lines.Add($line) }
        }
        foreach ($block in $blocks) {
            if ($block.Title) { $out.Add("  $(ConvertFrom-InlineMarkdown $block.Title)"); $out.Add('') }
            $inList = $false
            foreach ($p in ConvertTo-Paragraph $block.Lines) {
                if ($p -match '^([-*]|\d+\.)\s+(.*)$') {
                    # List items sit on consecutive lines; a blank line closes the list.
                    $marker, $itemText = $Matches[1], $Matches[2]
                    $bullet = if ($marker -match '\d') { $marker } else { '-' }
                    $wrapped = @(Format-Wrapped $itemText 8)
                    $out.Add("    $bullet".PadRight(8) + $wrapped[0].TrimStart())
                    $wrapped | Select-Object -Skip 1 | ForEach-Object { $out.Add($_) }
                    $inList = $true
                    continue
                }
                if ($inList) { $out.Add(''); $inList = $false }
                if ($p.StartsWith('    ')) { $p -split "`n" | ForEach-Object { $out.Add("    $_") } }
                else { Format-Wrapped $p 4 | ForEach-Object { $out.Add($_) } }
                $out.Add('')
            }
            if ($inList) { $out.Add('') }
        }
        if ($out[-1] -ne '') { $out.Add('') }
    }
    return $out
}

# ---------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------

New-Item -ItemType Directory -Force -Path $OutputDirectory | Out-Null
$module = Import-Module (Join-Path $Root 'LeakTools.psd1') -Force -PassThru -DisableNameChecking
try {
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; IndentChars = '  '; Encoding = [System.Text.UTF8Encoding]::new($false) }
    $helpFile = Join-Path $OutputDirectory 'LeakTools.dll-Help.xml'
    $written = [System.Collections.Generic.List[string]]::new()
    $xml = [System.Xml.XmlWriter]::Create($helpFile, $settings)
    try {
        $xml.WriteStartDocument()
        $xml.WriteStartElement('helpItems', 'http://msh')
        $xml.WriteAttributeString('schema', 'maml')
        foreach ($md in Get-ChildItem -Path $CmdletDocsDir -Filter '*.md' -File -ErrorAction Ignore | Sort-Object Name) {
            $doc = Read-CmdletMarkdown $md.FullName
            $command = $module.ExportedCmdlets[$doc.Name]
            if (-not $command) { Write-Warning "$($md.Name) documents '$($doc.Name)', which LeakTools does not export; skipped."; continue }
            Write-CommandHelp $xml $doc $command
            $written.Add($doc.Name)
        }
        $xml.WriteEndElement()
        $xml.WriteEndDocument()
    }
    finally { $xml.Dispose() }

    # Validate what was written: well-formed, one command per documented cmdlet, each with name and synopsis.
    $check = [xml](Get-Content -LiteralPath $helpFile -Raw)
    $ns = [System.Xml.XmlNamespaceManager]::new($check.NameTable)
    $ns.AddNamespace('command', $CommandNs); $ns.AddNamespace('maml', $MamlNs)
    $commands = $check.SelectNodes('//command:command', $ns)
    if ($commands.Count -ne $written.Count) { throw "$helpFile holds $($commands.Count) commands, expected $($written.Count)." }
    foreach ($c in $commands) {
        if (-not $c.SelectSingleNode('command:details/command:name', $ns).InnerText) { throw "$helpFile has a command without a name." }
    }
    foreach ($name in $module.ExportedCmdlets.Keys | Where-Object { $_ -notin $written }) {
        Write-Warning "$name has no docs/cmdlets/$name.md, so Get-Help shows no text for it."
    }

    $about = Join-Path $DocsDir 'about_LeakTools.md'
    if (Test-Path $about) {
        $aboutLines = ConvertTo-AboutText $about
        Set-Content -LiteralPath (Join-Path $OutputDirectory 'about_LeakTools.help.txt') -Value $aboutLines -Encoding utf8NoBOM
    }
    else { Write-Warning 'docs/about_LeakTools.md is missing, so Get-Help about_LeakTools finds nothing.' }
    Write-Host "==> Help: $($written.Count) cmdlets ($($written -join ', ')) -> $helpFile"
}
finally {
    Remove-Module $module -Force -ErrorAction Ignore
}
