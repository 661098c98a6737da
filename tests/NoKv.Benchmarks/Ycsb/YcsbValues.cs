using System.Buffers.Binary;
using System.Runtime.InteropServices;
using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// Self-checking 1,000-byte values: the record number, a version, then 984 bytes derived from both. A read
/// checks that what it got is exactly the value some write of that record produced (not another record's, not
/// a torn or stale block's bytes), without any shared table of expected versions, so concurrent writers to one
/// record need no coordination. Deriving the bytes costs a fixed-pad XOR, the same for every engine.
/// </summary>
public static class YcsbValues
{
    public const int Size = 1000;
    private const int HeaderBytes = 16;
    private const int PayloadWords = (Size - HeaderBytes) / 8;

    private static readonly ulong[] Pad = CreatePad();

    [ThreadStatic]
    private static byte[]? t_expected;

    /// <summary>Writes the value of (record, version) into <paramref name="destination"/> (exactly <see cref="Size"/> bytes).</summary>
    public static void Write(long record, ulong version, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, record);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], version);
        ulong seed = SplitMix64.Mix(((ulong)record * 0x9E3779B97F4A7C15UL) ^ SplitMix64.Mix(version));
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(destination.Slice(HeaderBytes, PayloadWords * 8));
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = Pad[i] ^ seed;
        }
    }

    /// <summary>The record number a value claims to belong to, or -1 if it is not even the right size.</summary>
    public static long RecordOf(ReadOnlySpan<byte> value) => value.Length == Size ? BinaryPrimitives.ReadInt64LittleEndian(value) : -1;

    /// <summary>True when <paramref name="value"/> is exactly what a write of record <paramref name="record"/> stored.</summary>
    public static bool IsValid(long record, ReadOnlySpan<byte> value)
    {
        if (value.Length != Size || BinaryPrimitives.ReadInt64LittleEndian(value) != record)
        {
            return false;
        }

        byte[] expected = t_expected ??= new byte[Size];
        Write(record, BinaryPrimitives.ReadUInt64LittleEndian(value[8..]), expected);
        return value.SequenceEqual(expected);
    }

    private static ulong[] CreatePad()
    {
        var random = new SplitMix64(0x5EED);
        var pad = new ulong[PayloadWords];
        for (int i = 0; i < pad.Length; i++)
        {
            pad[i] = random.Next();
        }

        return pad;
    }
}
