using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Core;

/// <summary>A store was asked to open a replica of a shard it does not hold (and that no bootstrap layout gives it).</summary>
public sealed class ReplicaNotFoundException : Exception
{
    public ReplicaNotFoundException(ShardId shard, StoreId store)
        : base($"Store {store} holds no replica of shard {shard}.")
    {
        Shard = shard;
        Store = store;
    }

    public ShardId Shard { get; }

    public StoreId Store { get; }
}
