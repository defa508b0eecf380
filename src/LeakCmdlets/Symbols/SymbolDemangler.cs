using System;
using System.Runtime.InteropServices;
using System.Text;
using LeakTools.Interop;

namespace LeakTools.Symbols;

/// <summary>
/// Turns linker symbol names into the bare function names a stack shows: C++ (Itanium) through libstdc++'s
/// __cxa_demangle with the parameter list and return type removed, Rust legacy (hash dropped) and Rust v0.
/// Names that are not mangled, or that fail to decode, come back unchanged (minus an ELF version suffix).
/// </summary>
public static class SymbolDemangler
{
    private static volatile bool s_cxxUnavailable;

    /// <summary>The bare name: "ns::Class::method" for C++, "crate::module::function" for Rust, the name itself for C.</summary>
    public static string Demangle(string symbol)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        // Versioned names from .symtab ("malloc@@GLIBC_2.2.5") show as the function alone.
        int at = symbol.IndexOf('@');
        if (at > 0) symbol = symbol[..at];

        if (symbol.StartsWith("_R", StringComparison.Ordinal))
            return RustV0Demangler.TryDemangle(symbol) ?? symbol;
        if (symbol.StartsWith("_ZN", StringComparison.Ordinal) && TryDemangleRustLegacy(symbol, out string? rust))
            return rust;
        if (symbol.StartsWith("_Z", StringComparison.Ordinal) && TryCxaDemangle(symbol) is { } full)
            return BareCxxName(full);
        return symbol;
    }

    /// <summary>The full C++ demangling with parameter list ("ns::f(int, char const*)"), or null when it is not a valid C++ name.</summary>
    public static string? DemangleCxxSignature(string symbol) => TryCxaDemangle(symbol);

    private static string? TryCxaDemangle(string symbol)
    {
        if (s_cxxUnavailable) return null;
        try
        {
            IntPtr result = CxxAbiNative.CxaDemangle(symbol, IntPtr.Zero, IntPtr.Zero, out int status);
            if (result == IntPtr.Zero) return null;
            try
            {
                return status == 0 ? Marshal.PtrToStringUTF8(result) : null;
            }
            finally
            {
                CxxAbiNative.Free(result);
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libstdc++ on this machine: C++ names stay mangled rather than failing symbolization.
            s_cxxUnavailable = true;
            return null;
        }
    }

    /// <summary>"int ns::twice&lt;int&gt;(int) const [clone .cold]" becomes "ns::twice&lt;int&gt;".</summary>
    internal static string BareCxxName(string demangled)
    {
        string name = demangled;
        // Compiler clones: "f(int) [clone .isra.0] [clone .cold]".
        int clone;
        while ((clone = name.LastIndexOf(" [clone ", StringComparison.Ordinal)) > 0 && name.EndsWith(']')) name = name[..clone];

        // Drop the parameter list and any cv/ref/noexcept qualifiers after it.
        string trimmed = name.TrimEnd();
        foreach (string qualifier in new[] { " noexcept", " &&", " &", " volatile", " const" })
            while (trimmed.EndsWith(qualifier, StringComparison.Ordinal)) trimmed = trimmed[..^qualifier.Length].TrimEnd();
        if (trimmed.EndsWith(')'))
        {
            int open = MatchingOpen(trimmed, trimmed.Length - 1, '(', ')');
            if (open > 0) name = trimmed[..open];
        }

        // Drop a return type (only template instantiations print one): the last space at nesting depth zero.
        int lastSpace = LastTopLevelSpace(name);
        return lastSpace >= 0 ? name[(lastSpace + 1)..] : name;
    }

    private static int MatchingOpen(string text, int closeIndex, char open, char close)
    {
        int depth = 0;
        for (int i = closeIndex; i >= 0; i--)
        {
            if (text[i] == close) depth++;
            else if (text[i] == open && --depth == 0) return i;
        }
        return -1;
    }

    private static int LastTopLevelSpace(string name)
    {
        int depth = 0, last = -1;
        for (int i = 0; i < name.Length; i++)
        {
            if (string.CompareOrdinal(name, i, "operator", 0, 8) == 0 && (i == 0 || name[i - 1] is ':' or ' '))
            {
                i = SkipOperatorName(name, i + 8) - 1;
                continue;
            }
            char c = name[i];
            if (c is '<' or '(' or '[' or '{') depth++;
            else if (c is '>' or ')' or ']' or '}') depth = Math.Max(0, depth - 1);
            else if (c == ' ' && depth == 0) last = i;
        }
        return last;
    }

    /// <summary>Skips the symbol of "operator&lt;&lt;", "operator()", "operator new[]", "operator int" so its brackets don't count as nesting.</summary>
    private static int SkipOperatorName(string name, int i)
    {
        if (i < name.Length && name[i] == ' ')
        {
            i++;
            while (i < name.Length && (char.IsLetterOrDigit(name[i]) || name[i] == '_')) i++;
            if (i + 1 < name.Length && name[i] == '[' && name[i + 1] == ']') i += 2;
            return i;
        }
        if (i + 1 < name.Length && name[i] == '(' && name[i + 1] == ')') return i + 2;
        if (i + 1 < name.Length && name[i] == '[' && name[i + 1] == ']') return i + 2;
        while (i < name.Length && "<>=!+-*/%&|^~,".Contains(name[i])) i++;
        return i;
    }

    /// <summary>Rust's legacy mangling: Itanium-style nested names whose last element is "h" + 16 hex digits.</summary>
    internal static bool TryDemangleRustLegacy(string symbol, out string demangled)
    {
        demangled = symbol;
        int pos = 3; // after "_ZN"
        var parts = new System.Collections.Generic.List<string>();
        while (pos < symbol.Length && symbol[pos] != 'E')
        {
            int start = pos;
            while (pos < symbol.Length && char.IsAsciiDigit(symbol[pos])) pos++;
            if (pos == start || !int.TryParse(symbol.AsSpan(start, pos - start), out int length) || pos + length > symbol.Length) return false;
            parts.Add(symbol.Substring(pos, length));
            pos += length;
        }
        if (pos >= symbol.Length || parts.Count < 2) return false;
        string hash = parts[^1];
        if (hash.Length != 17 || hash[0] != 'h' || !IsHex(hash.AsSpan(1))) return false;

        var builder = new StringBuilder();
        for (int i = 0; i < parts.Count - 1; i++)
        {
            if (i > 0) builder.Append("::");
            if (!AppendRustLegacyIdentifier(builder, parts[i])) return false;
        }
        demangled = builder.ToString();
        return true;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (char c in text) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    private static bool AppendRustLegacyIdentifier(StringBuilder builder, string identifier)
    {
        string s = identifier.StartsWith("_$", StringComparison.Ordinal) ? identifier[1..] : identifier;
        for (int i = 0; i < s.Length;)
        {
            if (s[i] == '.' && i + 1 < s.Length && s[i + 1] == '.') { builder.Append("::"); i += 2; continue; }
            if (s[i] != '$') { builder.Append(s[i]); i++; continue; }
            int end = s.IndexOf('$', i + 1);
            if (end < 0) return false;
            string escape = s.Substring(i + 1, end - i - 1);
            string? text = escape switch
            {
                "SP" => "@", "BP" => "*", "RF" => "&", "LT" => "<", "GT" => ">", "LP" => "(", "RP" => ")", "C" => ",",
                _ when escape.Length > 1 && escape[0] == 'u' && int.TryParse(escape.AsSpan(1), System.Globalization.NumberStyles.HexNumber, null, out int code)
                    => char.ConvertFromUtf32(code),
                _ => null,
            };
            if (text is null) return false;
            builder.Append(text);
            i = end + 1;
        }
        return true;
    }
}
