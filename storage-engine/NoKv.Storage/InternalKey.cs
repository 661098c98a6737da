using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NoKv.Storage;

/// <summary>
/// Helpers for internal keys: <c>userKey ++ fixed64le((sequence &lt;&lt; 8) | kind)</c>, ordered by user key
/// ascending then trailer descending (newest first). See docs/format-table.md and <see cref="ValueKind"/>.
/// </summary>
internal static class InternalKey
{
    public const int TrailerSize = 8;

    /// <summary>Sequence numbers use 56 bits.</summary>
    public const ulong MaxSequence = (1UL << 56) - 1;

    /// <summary>Trailer that sorts before every real version of a user key.</summary>
    public const ulong SeekTrailer = ulong.MaxValue;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Trailer(ulong sequence, ValueKind kind) => (sequence << 8) | (byte)kind;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> UserKey(ReadOnlySpan<byte> internalKey) => internalKey[..^TrailerSize];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong TrailerOf(ReadOnlySpan<byte> internalKey) => BinaryPrimitives.ReadUInt64LittleEndian(internalKey[^TrailerSize..]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SequenceOf(ReadOnlySpan<byte> internalKey) => TrailerOf(internalKey) >> 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ValueKind KindOf(ReadOnlySpan<byte> internalKey) => (ValueKind)(byte)TrailerOf(internalKey);

    /// <summary>Writes userKey + trailer into <paramref name="destination"/>; returns the length.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> userKey, ulong trailer)
    {
        userKey.CopyTo(destination);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[userKey.Length..], trailer);
        return userKey.Length + TrailerSize;
    }

    public static byte[] Make(ReadOnlySpan<byte> userKey, ulong trailer)
    {
        var key = new byte[userKey.Length + TrailerSize];
        Write(key, userKey, trailer);
        return key;
    }

    /// <summary>Internal-key order (the same as the table layer's InternalKeyComparer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int c = a[..^TrailerSize].SequenceCompareTo(b[..^TrailerSize]);
        if (c != 0)
        {
            return c;
        }

        return TrailerOf(b).CompareTo(TrailerOf(a));
    }
}
