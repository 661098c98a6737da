using System.Runtime.CompilerServices;

namespace NoKv.Storage.Encoding;

/// <summary>
/// LEB128-style unsigned varints: 7 value bits per byte, least significant group first, high bit set on
/// every byte but the last. A uint takes at most 5 bytes, a ulong at most 10.
/// </summary>
/// <remarks>
/// Decoders never throw on bad input: they return the number of bytes consumed, or 0 when the input is
/// truncated or the encoding is longer than the type allows (overlong or overflowing), so hot paths can
/// turn that into a <see cref="CorruptionException"/> that names the file and offset.
/// </remarks>
public static class Varint
{
    /// <summary>Largest encoded size of a uint.</summary>
    public const int MaxLength32 = 5;

    /// <summary>Largest encoded size of a ulong.</summary>
    public const int MaxLength64 = 10;

    /// <summary>Encoded size of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Length32(uint value) => Length64(value);

    /// <summary>Encoded size of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Length64(ulong value)
    {
        // ceil(significant bits / 7), with 0 taking one byte.
        int bits = 64 - System.Numerics.BitOperations.LeadingZeroCount(value | 1);
        return (bits + 6) / 7;
    }

    /// <summary>Writes <paramref name="value"/>; returns bytes written. Throws if the span is too short.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write32(Span<byte> destination, uint value) => Write64(destination, value);

    /// <summary>Writes <paramref name="value"/>; returns bytes written. Throws if the span is too short.</summary>
    public static int Write64(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>
    /// Decodes a uint from the start of <paramref name="source"/>. Returns bytes consumed (1..5), or 0 if
    /// the input is truncated or does not fit in 32 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TryRead32(ReadOnlySpan<byte> source, out uint value)
    {
        // One-byte values (small lengths) dominate block entries: keep that path tiny and inlinable.
        if (source.Length > 0 && source[0] < 0x80)
        {
            value = source[0];
            return 1;
        }

        return TryRead32Slow(source, out value);
    }

    /// <summary>
    /// Decodes a ulong from the start of <paramref name="source"/>. Returns bytes consumed (1..10), or 0 if
    /// the input is truncated or does not fit in 64 bits.
    /// </summary>
    public static int TryRead64(ReadOnlySpan<byte> source, out ulong value)
    {
        ulong result = 0;
        int limit = Math.Min(source.Length, MaxLength64);
        for (int i = 0; i < limit; i++)
        {
            ulong b = source[i];
            if (i == MaxLength64 - 1 && b > 1)
            {
                // The tenth byte may only carry the top bit of a ulong.
                break;
            }

            result |= (b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                value = result;
                return i + 1;
            }
        }

        value = 0;
        return 0;
    }

    private static int TryRead32Slow(ReadOnlySpan<byte> source, out uint value)
    {
        uint result = 0;
        int limit = Math.Min(source.Length, MaxLength32);
        for (int i = 0; i < limit; i++)
        {
            uint b = source[i];
            if (i == MaxLength32 - 1 && b > 0x0F)
            {
                // The fifth byte may only carry the top 4 bits of a uint.
                break;
            }

            result |= (b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                value = result;
                return i + 1;
            }
        }

        value = 0;
        return 0;
    }
}
