using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace LeakTools.Tests;

/// <summary>The error-id registry: one id per failure, and no id that nothing raises.</summary>
public class ErrorIdsTests
{
    private static readonly FieldInfo[] Ids = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).ToArray();

    [Fact]
    public void EveryIdIsDistinct()
    {
        Assert.True(Ids.Length > 30, $"only {Ids.Length} ids found");
        var repeated = Ids.GroupBy(f => (string)f.GetRawConstantValue()!)
            .Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(f => f.Name))}");
        Assert.Empty(repeated);
    }

    [Fact]
    public void EveryIdIsRaisedSomewhere()
    {
        string source = SourceDirectory();
        string registry = Path.Combine(source, "Errors", "ErrorIds.cs");
        string code = string.Concat(Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(path => path != registry && !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Select(File.ReadAllText));
        var unused = Ids.Where(f => !Regex.IsMatch(code, $@"\bErrorIds\.{f.Name}\b")).Select(f => f.Name);
        Assert.Empty(unused);
    }

    /// <summary>Every id lives in the registry: no other class of the module declares error ids of its own.</summary>
    [Fact]
    public void NoOtherClassHoldsErrorIds()
    {
        string source = SourceDirectory();
        var others = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(path => path != Path.Combine(source, "Errors", "ErrorIds.cs") && Regex.IsMatch(File.ReadAllText(path), @"class \w*ErrorIds\b"))
            .Select(path => Path.GetRelativePath(source, path));
        Assert.Empty(others);
    }

    private static string SourceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "src", "LeakCmdlets");
            if (Directory.Exists(path)) return path;
        }
        throw new DirectoryNotFoundException("src/LeakCmdlets not found above the test directory.");
    }
}
