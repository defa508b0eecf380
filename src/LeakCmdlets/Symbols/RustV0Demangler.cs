using System;
using System.Text;

namespace LeakTools.Symbols;

/// <summary>
/// Decoder for Rust's v0 mangling ("_R..."), following the grammar in rustc's symbol-mangling RFC 2603:
/// paths, identifiers, impls, generic arguments, basic/compound types and back-references. Punycode
/// identifiers and anything malformed give null, so the caller keeps the mangled name.
/// </summary>
internal sealed class RustV0Demangler
{
    private const int MaxDepth = 64;
    private readonly string _s;
    private readonly int _origin; // back-references count from just after "_R"
    private int _pos;
    private int _depth;

    private RustV0Demangler(string symbol, int origin)
    {
        _s = symbol;
        _origin = origin;
        _pos = origin;
    }

    public static string? TryDemangle(string symbol)
    {
        if (!symbol.StartsWith("_R", StringComparison.Ordinal)) return null;
        // A version suffix from the linker or a clone suffix (".llvm.123") is not part of the mangling.
        int dot = symbol.IndexOf('.');
        if (dot > 0) symbol = symbol[..dot];
        var parser = new RustV0Demangler(symbol, 2);
        try
        {
            if (parser.Peek() is >= '0' and <= '9') parser.ParseDecimal(); // encoding version
            var output = new StringBuilder();
            parser.Path(output, inValue: true);
            return output.ToString();
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            return null;
        }
    }

    private char Peek() => _pos < _s.Length ? _s[_pos] : '\0';

    private bool Eat(char c)
    {
        if (Peek() != c) return false;
        _pos++;
        return true;
    }

    private char Next() => _pos < _s.Length ? _s[_pos++] : throw new FormatException();

    private void Enter()
    {
        if (++_depth > MaxDepth) throw new FormatException();
    }

    private void Path(StringBuilder o, bool inValue)
    {
        Enter();
        char tag = Next();
        switch (tag)
        {
            case 'C':
                Identifier(o, out _);
                break;
            case 'M':
                ImplPath();
                o.Append('<');
                Type(o);
                o.Append('>');
                break;
            case 'X':
                ImplPath();
                goto case 'Y'; // then the same "<Type as Trait>" as a trait definition
            case 'Y':
                o.Append('<');
                Type(o);
                o.Append(" as ");
                Path(o, inValue: false);
                o.Append('>');
                break;
            case 'N':
            {
                char ns = Next();
                if (!char.IsAsciiLetter(ns)) throw new FormatException();
                Path(o, inValue);
                var name = new StringBuilder();
                Identifier(name, out ulong disambiguator);
                if (char.IsAsciiLetterUpper(ns))
                {
                    // Special namespaces: closures and shims, shown the way rustc's demangler does.
                    o.Append("::{").Append(ns switch { 'C' => "closure", 'S' => "shim", _ => ns.ToString() });
                    if (name.Length > 0) o.Append(':').Append(name);
                    o.Append('#').Append(disambiguator).Append('}');
                }
                else if (name.Length > 0)
                {
                    o.Append("::").Append(name);
                }
                break;
            }
            case 'I':
                Path(o, inValue);
                o.Append(inValue ? "::<" : "<");
                for (int i = 0; !Eat('E'); i++)
                {
                    if (i > 0) o.Append(", ");
                    GenericArg(o);
                }
                o.Append('>');
                break;
            case 'B':
                BackRef(() => Path(o, inValue));
                break;
            default:
                throw new FormatException();
        }
        _depth--;
    }

    private void ImplPath()
    {
        Disambiguator();
        Path(new StringBuilder(), inValue: false); // the impl's own path is not shown
    }

    private void GenericArg(StringBuilder o)
    {
        if (Eat('L')) { Base62(); o.Append("'_"); }
        else if (Eat('K')) Const(o);
        else Type(o);
    }

    private void Type(StringBuilder o)
    {
        Enter();
        char c = Peek();
        string? basic = c switch
        {
            'a' => "i8", 'b' => "bool", 'c' => "char", 'd' => "f64", 'e' => "str", 'f' => "f32", 'h' => "u8", 'i' => "isize",
            'j' => "usize", 'l' => "i32", 'm' => "u32", 'n' => "i128", 'o' => "u128", 's' => "i16", 't' => "u16",
            'u' => "()", 'v' => "...", 'x' => "i64", 'y' => "u64", 'z' => "!", 'p' => "_",
            _ => null,
        };
        if (basic is not null)
        {
            _pos++;
            o.Append(basic);
            _depth--;
            return;
        }
        _pos++;
        switch (c)
        {
            case 'A': o.Append('['); Type(o); o.Append("; "); Const(o); o.Append(']'); break;
            case 'S': o.Append('['); Type(o); o.Append(']'); break;
            case 'T':
                o.Append('(');
                int n = 0;
                for (; !Eat('E'); n++) { if (n > 0) o.Append(", "); Type(o); }
                if (n == 1) o.Append(',');
                o.Append(')');
                break;
            case 'R' or 'Q':
                o.Append(c == 'R' ? "&" : "&mut ");
                if (Eat('L')) Base62();
                Type(o);
                break;
            case 'P': o.Append("*const "); Type(o); break;
            case 'O': o.Append("*mut "); Type(o); break;
            case 'F': FnSig(o); break;
            case 'D':
                o.Append("dyn ");
                if (Eat('G')) Base62();
                for (int i = 0; !Eat('E'); i++)
                {
                    if (i > 0) o.Append(" + ");
                    Path(o, inValue: false);
                    while (Eat('p')) { o.Append('<'); UndisambiguatedIdentifier(o); o.Append(" = "); Type(o); o.Append('>'); }
                }
                if (!Eat('L')) throw new FormatException();
                Base62();
                break;
            case 'B': BackRef(() => Type(o)); break;
            case 'C' or 'M' or 'X' or 'Y' or 'N' or 'I':
                _pos--;
                Path(o, inValue: false);
                break;
            default: throw new FormatException();
        }
        _depth--;
    }

    private void FnSig(StringBuilder o)
    {
        if (Eat('G')) Base62();
        if (Eat('U')) o.Append("unsafe ");
        if (Eat('K'))
        {
            o.Append("extern \"");
            if (Eat('C')) o.Append('C');
            else UndisambiguatedIdentifier(o);
            o.Append("\" ");
        }
        o.Append("fn(");
        for (int i = 0; !Eat('E'); i++) { if (i > 0) o.Append(", "); Type(o); }
        o.Append(')');
        var ret = new StringBuilder();
        Type(ret);
        if (ret.ToString() != "()") o.Append(" -> ").Append(ret);
    }

    private void Const(StringBuilder o)
    {
        if (Eat('p')) { o.Append('_'); return; }
        if (Eat('B')) { BackRef(() => Const(o)); return; }
        var type = new StringBuilder();
        Type(type);
        bool negative = Eat('n');
        int start = _pos;
        while (char.IsAsciiHexDigit(Peek())) _pos++;
        string hex = _s[start.._pos];
        if (!Eat('_')) throw new FormatException();
        if (negative) o.Append('-');
        if (hex.Length <= 16 && ulong.TryParse(hex.Length == 0 ? "0" : hex, System.Globalization.NumberStyles.HexNumber, null, out ulong value))
            o.Append(type.ToString() == "bool" ? (value != 0 ? "true" : "false") : value.ToString());
        else
            o.Append("0x").Append(hex);
    }

    private void BackRef(Action parseAt)
    {
        ulong target = Base62();
        int resolved = checked(_origin + (int)target);
        if (resolved >= _pos - 1) throw new FormatException(); // must point strictly backwards
        int saved = _pos;
        _pos = resolved;
        parseAt();
        _pos = saved;
    }

    private void Identifier(StringBuilder o, out ulong disambiguator)
    {
        disambiguator = Disambiguator();
        UndisambiguatedIdentifier(o);
    }

    private ulong Disambiguator() => Eat('s') ? Base62() + 1 : 0;

    private void UndisambiguatedIdentifier(StringBuilder o)
    {
        if (Eat('u')) throw new FormatException(); // punycode: keep the mangled form
        int length = ParseDecimal();
        Eat('_');
        if (_pos + length > _s.Length) throw new FormatException();
        o.Append(_s, _pos, length);
        _pos += length;
    }

    private int ParseDecimal()
    {
        int start = _pos;
        while (char.IsAsciiDigit(Peek())) _pos++;
        if (_pos == start || (_s[start] == '0' && _pos - start > 1)) throw new FormatException();
        return int.TryParse(_s.AsSpan(start, _pos - start), out int value) ? value : throw new FormatException();
    }

    private ulong Base62()
    {
        if (Eat('_')) return 0;
        ulong value = 0;
        while (true)
        {
            char c = Next();
            if (c == '_') return checked(value + 1);
            int digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'z' => c - 'a' + 10,
                >= 'A' and <= 'Z' => c - 'A' + 36,
                _ => throw new FormatException(),
            };
            value = checked(value * 62 + (ulong)digit);
        }
    }
}
