using System.Collections.Concurrent;
using NoKv.Abstractions.Sharding;

namespace NoKv.Grains.Controller;

/// <summary>The replicas active on this silo and their load, for the store heartbeat. Thread-safe.</summary>
public sealed class LocalReplicaRegistry
{
    private readonly ConcurrentDictionary<ShardId, ReplicaLoad> _replicas = new();

    public ReplicaLoad Register(ShardId shard) => _replicas.GetOrAdd(shard, static _ => new ReplicaLoad());

    public void Unregister(ShardId shard, ReplicaLoad load) => _replicas.TryRemove(new KeyValuePair<ShardId, ReplicaLoad>(shard, load));

    public IEnumerable<KeyValuePair<ShardId, ReplicaLoad>> Replicas => _replicas;
}
