using System.Buffers.Text;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// YCSB key names: "user" followed by the decimal FNV-1a hash of the record number (YCSB's default "hashed"
/// insert order), so records inserted in order land all over the key space, as do the hot records of a
/// zipfian workload.
/// </summary>
public static class YcsbKeys
{
    /// <summary>Longest key: "user" and 20 digits.</summary>
    public const int MaxKeyBytes = 24;

    /// <summary>Writes record <paramref name="record"/>'s key into <paramref name="destination"/> (at least <see cref="MaxKeyBytes"/>) and returns its length.</summary>
    public static int Write(long record, Span<byte> destination)
    {
        "user"u8.CopyTo(destination);
        if (!Utf8Formatter.TryFormat(Fnv1a64((ulong)record) >> 1, destination[4..], out int digits))
        {
            throw new ArgumentException("Key buffer too small.", nameof(destination));
        }

        return 4 + digits;
    }

    /// <summary>64-bit FNV-1a over the 8 little-endian bytes of <paramref name="value"/>.</summary>
    public static ulong Fnv1a64(ulong value)
    {
        ulong hash = 0xCBF29CE484222325UL;
        for (int i = 0; i < 8; i++)
        {
            hash ^= value & 0xFF;
            hash *= 0x100000001B3UL;
            value >>= 8;
        }

        return hash;
    }
}
