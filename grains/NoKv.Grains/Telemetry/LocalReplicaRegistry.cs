using System.Collections.Concurrent;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Diagnostics;

namespace NoKv.Grains.Telemetry;

/// <summary>
/// The replicas active on this silo and their load counters, for the store's status report. Replica grains add
/// themselves when activated and leave when deactivated. Thread-safe.
/// </summary>
public sealed class LocalReplicaRegistry
{
    private readonly ConcurrentDictionary<ShardId, ReplicaLoad> _replicas = new();

    public void Add(ShardId shard, ReplicaLoad load) => _replicas[shard] = load;

    public void Remove(ShardId shard, ReplicaLoad load) => _replicas.TryRemove(new KeyValuePair<ShardId, ReplicaLoad>(shard, load));

    /// <summary>The replicas active now, by shard, in shard order.</summary>
    public KeyValuePair<ShardId, ReplicaLoad>[] Snapshot()
    {
        var all = _replicas.ToArray();
        Array.Sort(all, static (a, b) => a.Key.CompareTo(b.Key));
        return all;
    }
}
