namespace NoKv.Abstractions.Sharding;

/// <summary>
/// Raft groups that belong to the cluster itself rather than to a user key range. They are hosted like shards
/// (replica grains "shard/store" pinned to their stores) but never appear in the user shard map, and their rows
/// live apart from user data in each store's engine. User shard ids start at 1, so id 0 can never collide.
/// </summary>
public static class SystemShards
{
    /// <summary>The controller group: stores, shard map, operations and the timestamp oracle (docs/controller.md).</summary>
    public static readonly ShardId Controller = new(0);
}
