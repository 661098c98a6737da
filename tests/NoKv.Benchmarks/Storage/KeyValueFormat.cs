using System.Buffers.Binary;
using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Storage;

/// <summary>
/// Key and value layout shared by every engine in a run.
/// Keys are 16 ASCII decimal digits, so bytewise order equals numeric order (fillseq really is
/// sequential for all engines). Present key i is the number 2*i; missing key i is 2*i+1, which sorts
/// between two present keys and therefore lands in the same blocks and files: a lookup can only be
/// answered "absent" cheaply by a filter, not by a key-range check.
/// Values are 100 (or ValueSize) pseudo-random (incompressible) bytes derived from (index, version); a reader can
/// recompute the expected value, so a stale or wrong value is detected instead of counted as a hit.
/// With <see cref="CompressibleValues"/> (runs that compare codecs) the second half of a value repeats
/// its first, so blocks compress to about half, like db_bench's default compression ratio of 0.5.
/// </summary>
public static class KeyValueFormat
{
    /// <summary>Set once at process start, before any value is written or checked.</summary>
    public static bool CompressibleValues { get; set; }

    public const int KeySize = 16;
    /// <summary>Value length (100 by default, db_bench's; <c>storage --value-bytes N</c> sets it once at process start).</summary>
    public static int ValueSize { get; set; } = 100;

    public static void WriteKey(long index, Span<byte> destination) => WriteDigits(2 * index, destination);

    public static void WriteMissingKey(long index, Span<byte> destination) => WriteDigits((2 * index) + 1, destination);

    /// <summary>Fills <paramref name="destination"/> (ValueSize bytes) with the value of key <paramref name="index"/> at <paramref name="version"/>.</summary>
    public static void WriteValue(long index, byte version, Span<byte> destination)
    {
        var random = new SplitMix64(ValueSeed(index, version));
        var offset = 0;
        while (offset + sizeof(ulong) <= ValueSize)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[offset..], random.Next());
            offset += sizeof(ulong);
        }
        Span<byte> tail = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(tail, random.Next());
        tail[..(ValueSize - offset)].CopyTo(destination[offset..ValueSize]);
        if (CompressibleValues)
        {
            destination[..(ValueSize / 2)].CopyTo(destination[(ValueSize / 2)..ValueSize]);
        }
    }

    /// <summary>Full check: the value is exactly the one written for (index, version).</summary>
    public static bool IsExpectedValue(long index, byte version, ReadOnlySpan<byte> actual)
    {
        if (actual.Length != ValueSize)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[ValueSize];
        WriteValue(index, version, expected);
        return actual.SequenceEqual(expected);
    }

    /// <summary>
    /// Cheap check used on scans, where recomputing 100 bytes per entry would dominate the timing:
    /// the length and the first 8 bytes (which depend on both index and version) must match.
    /// </summary>
    public static bool HasExpectedPrefix(long index, byte version, ReadOnlySpan<byte> actual)
    {
        if (actual.Length != ValueSize)
        {
            return false;
        }
        var random = new SplitMix64(ValueSeed(index, version));
        return BinaryPrimitives.ReadUInt64LittleEndian(actual) == random.Next();
    }

    /// <summary>Parses a present key back into its index; -1 if the bytes are not a present key of this format.</summary>
    public static long ParseKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
        {
            return -1;
        }
        long number = 0;
        foreach (var digit in key)
        {
            var d = digit - (byte)'0';
            if ((uint)d > 9)
            {
                return -1;
            }
            number = (number * 10) + d;
        }
        return (number & 1) == 0 ? number / 2 : -1;
    }

    private static ulong ValueSeed(long index, byte version) =>
        SplitMix64.Mix(((ulong)index * 0x9E3779B97F4A7C15UL) ^ (((ulong)version + 1) * 0xD1B54A32D192ED03UL));

    private static void WriteDigits(long number, Span<byte> destination)
    {
        for (var position = KeySize - 1; position >= 0; position--)
        {
            destination[position] = (byte)('0' + (number % 10));
            number /= 10;
        }
    }
}
