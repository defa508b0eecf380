using System;
using System.Buffers;
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace LeakTools.Symbols;

/// <summary>
/// The CRC-32 that .gnu_debuglink stores for its debug file (the zlib/IEEE CRC, reflected polynomial 0xEDB88320).
/// Written here, table-driven, because System.IO.Hashing is a separate package.
/// </summary>
internal static class GnuDebugLinkCrc
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC of the whole file behind <paramref name="handle"/>, read with positioned reads.</summary>
    public static uint OfFile(SafeFileHandle handle, long length)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            uint crc = 0xFFFFFFFFu;
            for (long offset = 0; offset < length;)
            {
                int n = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - offset)), offset);
                if (n <= 0) throw new InvalidDataException("The file got shorter while its CRC was computed.");
                crc = Update(crc, buffer.AsSpan(0, n));
                offset += n;
            }
            return ~crc;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static uint Of(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < table.Length; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
