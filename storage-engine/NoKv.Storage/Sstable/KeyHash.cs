using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NoKv.Storage.Sstable;

/// <summary>
/// The 64-bit hash that bloom filters are built on. Its output is baked into every filter block on disk:
/// never change the algorithm or constants (a new hash needs a new filter layout byte).
/// </summary>
/// <remarks>
/// Multiply-rotate mixing over 8-byte words with a final avalanche, so every input bit affects every output
/// bit; both 32-bit halves are used independently by the filter (line choice and in-line probes).
/// </remarks>
internal static class KeyHash
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong Prime3 = 0x165667B19E3779F9UL;
    private const ulong Prime4 = 0x85EBCA77C2B2AE63UL;
    private const ulong Seed = 0x4E6F4B76426C6F6DUL;

    public static ulong Hash64(ReadOnlySpan<byte> data)
    {
        ulong h = Seed ^ ((ulong)data.Length * Prime1);
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            ulong k = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i)) * Prime2;
            k = BitOperations.RotateLeft(k, 31) * Prime1;
            h ^= k;
            h = (BitOperations.RotateLeft(h, 27) * Prime1) + Prime4;
        }

        if (i + 4 <= data.Length)
        {
            h ^= BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i)) * Prime1;
            h = (BitOperations.RotateLeft(h, 23) * Prime2) + Prime3;
            i += 4;
        }

        for (; i < data.Length; i++)
        {
            h ^= data[i] * Prime3;
            h = BitOperations.RotateLeft(h, 11) * Prime1;
        }

        return Avalanche(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Avalanche(ulong h)
    {
        h ^= h >> 33;
        h *= Prime2;
        h ^= h >> 29;
        h *= Prime3;
        h ^= h >> 32;
        return h;
    }
}
