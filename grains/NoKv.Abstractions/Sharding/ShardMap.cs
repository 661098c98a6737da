namespace NoKv.Abstractions.Sharding;

/// <summary>
/// The routing table: every shard, sorted by range start, covering the whole key space without gaps or
/// overlaps, plus the stores. Version grows with every change, so a client keeps whichever map is newer.
/// Immutable after construction.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.ShardMap")]
public sealed class ShardMap
{
    public ShardMap(long version, ShardDescriptor[] shards, StoreDescriptor[] stores)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(stores);
        Validate(shards);
        Version = version;
        Shards = shards;
        Stores = stores;
    }

    [Id(0)]
    public long Version { get; }

    /// <summary>Sorted by start; shard i's end equals shard i+1's start; first starts empty, last ends empty.</summary>
    [Id(1)]
    public ShardDescriptor[] Shards { get; }

    [Id(2)]
    public StoreDescriptor[] Stores { get; }

    /// <summary>The shard whose range contains <paramref name="key"/>. Binary search, no allocation.</summary>
    public ShardDescriptor FindShard(ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = Shards.Length - 1;
        while (lo < hi)
        {
            // Find the last shard whose start <= key.
            int mid = (lo + hi + 1) >>> 1;
            if (key.SequenceCompareTo(Shards[mid].Range.Start) >= 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return Shards[lo];
    }

    public ShardDescriptor? TryGetShard(ShardId id)
    {
        foreach (var shard in Shards)
        {
            if (shard.Id == id)
            {
                return shard;
            }
        }

        return null;
    }

    private static void Validate(ShardDescriptor[] shards)
    {
        if (shards.Length == 0)
        {
            throw new ArgumentException("A shard map needs at least one shard.", nameof(shards));
        }

        if (shards[0].Range.Start.Length != 0 || shards[^1].Range.End.Length != 0)
        {
            throw new ArgumentException("A shard map must cover the whole key space.", nameof(shards));
        }

        for (int i = 1; i < shards.Length; i++)
        {
            if (!shards[i - 1].Range.End.AsSpan().SequenceEqual(shards[i].Range.Start))
            {
                throw new ArgumentException($"Shards {shards[i - 1].Id} and {shards[i].Id} leave a gap or overlap.", nameof(shards));
            }
        }
    }
}
