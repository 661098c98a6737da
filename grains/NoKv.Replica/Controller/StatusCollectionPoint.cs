using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller;

/// <summary>
/// The controller's status-collection point (docs/transactions.md, "GC"): the minimum over every shard of the map of
/// the best lock-free point reported for that shard at the epoch the map gives it.
/// <para>Why a report counts only at the map's epoch: a report says "no lock below P in this shard's range as of epoch
/// E, and none can appear", which stays true for as long as the shard keeps E. A split leaves both halves with subsets
/// of the parent's locks and the parent's lock floor, so a report at the parent's old epoch still covers them while the
/// map lags; but a merge brings the source's locks into the target at a new epoch, so the target's report at that epoch
/// must come from a round that walked the merged range. Requiring each shard's map epoch means every key is covered by
/// a report about the range that holds it now (or, while the map lags an operation, about the range that held it when
/// the map was written, which covers its locks as argued above).</para>
/// <para>A shard without such a report (its leader has not finished a round at this epoch, its store is silent, the
/// controller restarted and has not heard from it yet) makes the answer 0: collection stalls, it is never unsafe.</para>
/// </summary>
public static class StatusCollectionPoint
{
    /// <param name="shards">The user shards of the committed map.</param>
    /// <param name="heartbeats">The latest heartbeat of every store heard from.</param>
    public static long Compute(IReadOnlyList<ShardDescriptor> shards, IEnumerable<StoreHeartbeat> heartbeats)
    {
        if (shards.Count == 0)
        {
            return 0;
        }

        var best = new Dictionary<ShardId, long>();
        var epochs = new Dictionary<ShardId, long>();
        foreach (var shard in shards)
        {
            epochs[shard.Id] = shard.Epoch;
        }

        foreach (var heartbeat in heartbeats)
        {
            foreach (var stats in heartbeat.Shards)
            {
                if (stats.LockFreePoint is { } point && epochs.TryGetValue(stats.Shard, out long epoch) && stats.LockFreeEpoch == epoch
                    && (!best.TryGetValue(stats.Shard, out long known) || point > known))
                {
                    best[stats.Shard] = point;
                }
            }
        }

        long min = long.MaxValue;
        foreach (var shard in shards)
        {
            if (!best.TryGetValue(shard.Id, out long point))
            {
                return 0;
            }

            min = Math.Min(min, point);
        }

        return min;
    }
}
