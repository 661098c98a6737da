using NoKv.Storage.Sstable;

namespace NoKv.Storage.Cache;

/// <summary>An entry of a <see cref="BlockCacheShard"/>'s LRU list; links guarded by the shard's lock.</summary>
internal sealed class BlockCacheNode(BlockCacheKey key, Block value, int charge)
{
    public BlockCacheKey Key { get; } = key;

    public Block Value { get; } = value;

    public int Charge { get; } = charge;

    public BlockCacheNode Prev { get; set; } = null!;

    public BlockCacheNode Next { get; set; } = null!;
}
