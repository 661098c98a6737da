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
    private long _statusCollectionPoint;

    /// <summary>
    /// The controller's status-collection point as this silo's heartbeat last heard it (0: none yet), for the replicas'
    /// GC rounds (docs/transactions.md, "GC"). Only rises: every point the controller ever published was true when
    /// published and stays true, so a lower one from a controller that restarted is no news.
    /// </summary>
    public long StatusCollectionPoint => Volatile.Read(ref _statusCollectionPoint);

    public void RaiseStatusCollectionPoint(long point)
    {
        long seen = Volatile.Read(ref _statusCollectionPoint);
        while (point > seen)
        {
            long found = Interlocked.CompareExchange(ref _statusCollectionPoint, point, seen);
            if (found == seen)
            {
                return;
            }

            seen = found;
        }
    }

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
