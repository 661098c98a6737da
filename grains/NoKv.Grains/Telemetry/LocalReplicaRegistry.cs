using System.Collections.Concurrent;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands;
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
    private long _clusterFormatLevel = CommandFormatLevel.Base;

    /// <summary>
    /// The controller's status-collection point as this silo's heartbeat last heard it (0: none yet), for the replicas'
    /// GC rounds (docs/transactions.md, "GC"). Only rises: every point the controller ever published was true when
    /// published and stays true, so a lower one from a controller that restarted is no news.
    /// </summary>
    public long StatusCollectionPoint => Volatile.Read(ref _statusCollectionPoint);

    public void RaiseStatusCollectionPoint(long point) => Raise(ref _statusCollectionPoint, point);

    /// <summary>
    /// The cluster's command format level as this silo's heartbeat last heard it from the controller (docs/format-commands.md,
    /// "Gate"); <see cref="CommandFormatLevel.Base"/> until it has. Only rises: a controller that has just started
    /// answers the base level until every store is heard again, which is no news about the stores' builds. (Taking a
    /// store back to an older build once the cluster's level passed it is not supported, as in any rolling upgrade
    /// whose new commands are in use.)
    /// </summary>
    public int ClusterFormatLevel => (int)Volatile.Read(ref _clusterFormatLevel);

    public void RaiseClusterFormatLevel(int level) => Raise(ref _clusterFormatLevel, level);

    /// <summary>Sets <paramref name="field"/> to <paramref name="value"/> if that is higher, against concurrent raises.</summary>
    private static void Raise(ref long field, long value)
    {
        long seen = Volatile.Read(ref field);
        while (value > seen)
        {
            long found = Interlocked.CompareExchange(ref field, value, seen);
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
