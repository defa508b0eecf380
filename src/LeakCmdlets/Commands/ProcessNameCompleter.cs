using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using LeakTools.Procfs;

namespace LeakTools.Commands;

/// <summary>Tab completion for -Name from the processes running now.</summary>
public sealed class ProcessNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get((wordToComplete ?? string.Empty).Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return ProcessDirectory.EnumerateProcessIds()
            .Select(ProcessDirectory.TryReadComm)
            .Where(name => name is not null && pattern.IsMatch(name))
            .Distinct()
            .OrderBy(name => name, System.StringComparer.OrdinalIgnoreCase)
            .Select(name => new CompletionResult(
                name!.IndexOfAny(new[] { ' ', '(', ')', '\'', '$' }) >= 0 ? $"'{name!.Replace("'", "''")}'" : name!,
                name!, CompletionResultType.ParameterValue, name!));
    }
}
