using System.Runtime.CompilerServices;

namespace NoKv.Storage.Cache;

/// <summary>Identifies a cached block: the table's cache id (its file number) and the block's offset.</summary>
internal readonly struct BlockCacheKey : IEquatable<BlockCacheKey>
{
    public BlockCacheKey(ulong cacheId, long offset)
    {
        CacheId = cacheId;
        Offset = offset;
    }

    public ulong CacheId { get; }

    public long Offset { get; }

    /// <summary>Well-mixed 64-bit hash; the high bits choose the shard, the dictionary uses the low bits.</summary>
    public ulong Hash
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ulong h = (CacheId * 0x9E3779B97F4A7C15UL) ^ (ulong)Offset;
            h ^= h >> 31;
            h *= 0xBF58476D1CE4E5B9UL;
            h ^= h >> 29;
            return h;
        }
    }

    public bool Equals(BlockCacheKey other) => CacheId == other.CacheId && Offset == other.Offset;

    public override bool Equals(object? obj) => obj is BlockCacheKey other && Equals(other);

    public override int GetHashCode() => (int)Hash;
}
