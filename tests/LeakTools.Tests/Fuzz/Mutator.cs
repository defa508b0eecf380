using System;
using System.Collections.Generic;

namespace LeakTools.Tests.Fuzz;

/// <summary>
/// Seeded random mutations of a recorded sample: byte flips, overwrites with boundary values, truncations,
/// insertions and duplicated chunks, one to three per mutant. Half of the positions fall in the sample's
/// structural ranges (headers, tables) when it has any, where a mutation changes what the parser decides.
/// </summary>
internal sealed class Mutator
{
    // Bytes that mean something to the parsers: separators, digits, signs, ELF class/type values, and the ends of ranges.
    private static readonly byte[] Interesting =
        { 0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, (byte)'\n', (byte)' ', (byte)'\t', (byte)':', (byte)'(', (byte)')',
          (byte)'-', (byte)'0', (byte)'9', (byte)'f', (byte)'k', (byte)'@', (byte)'[' };

    // Inserted whole: numbers past every integer type, empty fields, fake headers.
    private static readonly byte[][] Tokens =
    {
        "99999999999999999999999"u8.ToArray(), "18446744073709551616"u8.ToArray(), "-1"u8.ToArray(), "\n\n"u8.ToArray(),
        "ffffffffffffffff-0 "u8.ToArray(), " kB"u8.ToArray(), ")"u8.ToArray(), "\0\0\0\0"u8.ToArray(),
        new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, new byte[] { 0x00, 0x00, 0x00, 0x80 },
    };

    private readonly Random _random;
    private readonly (int Start, int Length)[] _hotRanges;

    public Mutator(int seed, IReadOnlyList<(int Start, int Length)>? hotRanges = null)
    {
        _random = new Random(seed);
        _hotRanges = hotRanges is null ? Array.Empty<(int, int)>() : [.. hotRanges];
    }

    public byte[] Mutate(byte[] original)
    {
        var data = new List<byte>(original);
        int operations = 1 + _random.Next(3);
        for (int i = 0; i < operations; i++) MutateOnce(data);
        return data.ToArray();
    }

    private void MutateOnce(List<byte> data)
    {
        switch (_random.Next(7))
        {
            case 0 when data.Count > 0: // flip one bit
                {
                    int at = Position(data.Count);
                    data[at] ^= (byte)(1 << _random.Next(8));
                    break;
                }
            case 1 when data.Count > 0: // overwrite with a meaningful byte
                data[Position(data.Count)] = Interesting[_random.Next(Interesting.Length)];
                break;
            case 2 when data.Count > 0: // overwrite a run with random bytes
                {
                    int at = Position(data.Count);
                    int length = Math.Min(1 + _random.Next(8), data.Count - at);
                    for (int k = 0; k < length; k++) data[at + k] = (byte)_random.Next(256);
                    break;
                }
            case 3: // truncate
                TruncateAt(data, _random.Next(data.Count + 1));
                break;
            case 4: // insert a token or random bytes
                {
                    int at = data.Count == 0 ? 0 : Position(data.Count);
                    if (_random.Next(2) == 0) data.InsertRange(at, Tokens[_random.Next(Tokens.Length)]);
                    else
                    {
                        var bytes = new byte[1 + _random.Next(16)];
                        _random.NextBytes(bytes);
                        data.InsertRange(at, bytes);
                    }
                    break;
                }
            case 5 when data.Count > 1: // duplicate a chunk elsewhere (repeated lines, overlapping tables)
                {
                    int from = _random.Next(data.Count);
                    int length = Math.Min(1 + _random.Next(256), data.Count - from);
                    data.InsertRange(_random.Next(data.Count + 1), data.GetRange(from, length));
                    break;
                }
            case 6 when data.Count > 0: // delete a chunk
                {
                    int at = Position(data.Count);
                    data.RemoveRange(at, Math.Min(1 + _random.Next(64), data.Count - at));
                    break;
                }
            default:
                data.Add(Interesting[_random.Next(Interesting.Length)]);
                break;
        }
    }

    private static void TruncateAt(List<byte> data, int length) => data.RemoveRange(length, data.Count - length);

    /// <summary>A position in [0, count): half the time inside a structural range, if the sample has any.</summary>
    private int Position(int count)
    {
        if (_hotRanges.Length > 0 && _random.Next(2) == 0)
        {
            var (start, length) = _hotRanges[_random.Next(_hotRanges.Length)];
            int at = start + _random.Next(Math.Max(1, length));
            if (at < count) return at;
        }
        return _random.Next(count);
    }
}
