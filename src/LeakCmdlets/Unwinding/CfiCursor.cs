using System;
using System.Buffers.Binary;
using System.IO;

namespace LeakTools.Unwinding;

/// <summary>
/// Reads the encodings of DWARF call frame information (LEB128, pointers in their DW_EH_PE encodings) from a span,
/// bounds-checked: a read past the end throws <see cref="InvalidDataException"/>, never returns garbage.
/// </summary>
internal ref struct CfiCursor
{
    // DW_EH_PE_*: the low nibble is the format, bits 4-6 what the value is relative to, bit 7 indirect.
    public const byte PointerOmit = 0xff;
    private const byte FormatAbsolute = 0x00, FormatUleb = 0x01, FormatU2 = 0x02, FormatU4 = 0x03, FormatU8 = 0x04;
    private const byte FormatSleb = 0x09, FormatS2 = 0x0a, FormatS4 = 0x0b, FormatS8 = 0x0c;
    private const byte RelativePc = 0x10, RelativeData = 0x30;

    private readonly ReadOnlySpan<byte> _data;

    public CfiCursor(ReadOnlySpan<byte> data, int position = 0)
    {
        _data = data;
        Position = position;
    }

    public int Position { get; set; }

    public int Remaining => _data.Length - Position;

    public byte U8() => Take(1)[0];

    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public ulong Uleb()
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = U8();
            if (shift < 64) result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
            if (shift >= 63) throw new InvalidDataException("LEB128 value longer than 10 bytes.");
        }
    }

    public long Sleb()
    {
        long result = 0;
        int shift = 0;
        byte b;
        do
        {
            b = U8();
            if (shift < 64) result |= (long)(b & 0x7f) << shift;
            shift += 7;
            if (shift >= 70 && (b & 0x80) != 0) throw new InvalidDataException("LEB128 value longer than 10 bytes.");
        }
        while ((b & 0x80) != 0);
        if (shift < 64 && (b & 0x40) != 0) result |= -1L << shift;
        return result;
    }

    /// <summary>A NUL-terminated ASCII string (a CIE's augmentation).</summary>
    public string CString()
    {
        int end = _data[Position..].IndexOf((byte)0);
        if (end < 0) throw new InvalidDataException("Unterminated string in call frame information.");
        string text = System.Text.Encoding.ASCII.GetString(_data.Slice(Position, end));
        Position += end + 1;
        return text;
    }

    public void Skip(ulong count)
    {
        if (count > (ulong)Remaining) throw Overrun();
        Position += (int)count;
    }

    /// <summary>
    /// A pointer in encoding <paramref name="encoding"/>. Relative to the pc (the field's own address: the section's
    /// address plus the position) or to <paramref name="dataBase"/> (.eh_frame_hdr); indirect pointers are refused.
    /// </summary>
    public ulong Pointer(byte encoding, ulong sectionAddress, ulong dataBase = 0)
    {
        if ((encoding & 0x80) != 0) throw new InvalidDataException($"Indirect pointer encoding 0x{encoding:x2} in call frame information.");
        ulong fieldAddress = sectionAddress + (ulong)Position;
        ulong value = (encoding & 0x0f) switch
        {
            FormatAbsolute or FormatU8 => U64(),
            FormatUleb => Uleb(),
            FormatU2 => U16(),
            FormatU4 => U32(),
            FormatSleb => (ulong)Sleb(),
            FormatS2 => (ulong)(long)(short)U16(),
            FormatS4 => (ulong)(long)(int)U32(),
            FormatS8 => U64(),
            _ => throw new InvalidDataException($"Unknown pointer encoding 0x{encoding:x2} in call frame information."),
        };
        return (encoding & 0x70) switch
        {
            0 => value,
            RelativePc => fieldAddress + value,
            RelativeData => dataBase + value,
            _ => throw new InvalidDataException($"Unsupported pointer encoding 0x{encoding:x2} in call frame information."),
        };
    }

    /// <summary>A pc range: the encoding's format only, never relative.</summary>
    public ulong Range(byte encoding) => Pointer((byte)(encoding & 0x0f), 0);

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining) throw Overrun();
        var slice = _data.Slice(Position, count);
        Position += count;
        return slice;
    }

    private InvalidDataException Overrun() =>
        new($"Call frame information ends inside a record (at offset {Position} of {_data.Length}).");
}
