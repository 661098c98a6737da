using NoKv.Storage.Encoding;

namespace NoKv.Storage.ValueLog;

/// <summary>
/// Where a separated value lives: the stored value of a table entry whose kind is
/// <see cref="ValueKind.ValuePointer"/> (docs/format-value-file.md, "Value pointer").
/// </summary>
/// <remarks>
/// Encoding: <c>file:varint64 offset:varint64 size:varint32 checksum:fixed32</c>. <see cref="Offset"/> is the
/// first byte of the value itself inside the value file, so a read fetches exactly <see cref="Size"/> bytes, and
/// <see cref="Checksum"/> (masked CRC-32C of the value) is checked against them before anything is returned: a
/// torn, truncated or overwritten value file can only ever produce a <see cref="CorruptionException"/>.
/// </remarks>
internal readonly record struct ValuePointer(ulong FileNumber, ulong Offset, int Size, uint Checksum)
{
    /// <summary>Upper bound of an encoded pointer's length.</summary>
    public const int MaxEncodedLength = 10 + 10 + 5 + 4;

    /// <summary>Writes the pointer; returns the length written.</summary>
    public int EncodeTo(Span<byte> destination)
    {
        int n = Varint.Write64(destination, FileNumber);
        n += Varint.Write64(destination[n..], Offset);
        n += Varint.Write32(destination[n..], (uint)Size);
        Fixed.Write32(destination[n..], Checksum);
        return n + 4;
    }

    /// <summary>Decodes a whole encoded pointer; false if the bytes are not exactly one pointer.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> source, out ValuePointer pointer)
    {
        pointer = default;
        int n = Varint.TryRead64(source, out ulong file);
        if (n <= 0)
        {
            return false;
        }

        int m = Varint.TryRead64(source[n..], out ulong offset);
        if (m <= 0)
        {
            return false;
        }

        n += m;
        m = Varint.TryRead32(source[n..], out uint size);
        if (m <= 0 || size > int.MaxValue)
        {
            return false;
        }

        n += m;
        if (source.Length != n + 4)
        {
            return false;
        }

        pointer = new ValuePointer(file, offset, (int)size, Fixed.Read32(source[n..]));
        return true;
    }

    /// <summary>Decodes a pointer read from <paramref name="path"/> (a table); damage is a <see cref="CorruptionException"/>.</summary>
    public static ValuePointer Decode(ReadOnlySpan<byte> source, string path)
    {
        if (!TryDecode(source, out ValuePointer pointer))
        {
            throw new CorruptionException(path, 0, "Table entry: malformed value pointer.");
        }

        return pointer;
    }
}
