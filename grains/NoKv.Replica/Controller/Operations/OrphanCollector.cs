using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// Finds replicas that stores hold but their shards removed: a store that was down while its replica was re-replicated
/// elsewhere (or that missed a move's last step) still holds the removed peer when it returns. Nobody addresses such a
/// replica again and it cannot win a vote, but its log, state and data stay on disk for good, so the controller
/// destroys it once the store is back.
/// <para>A held peer is an orphan when the committed map names the shard at a <b>newer</b> membership version than
/// the replica's own persisted descriptor and does not name the peer. Peer ids are never reused and membership
/// changes only through operations, so a peer missing from a newer committed configuration was removed and can never
/// return. At an equal version only a replica that is no member of its own descriptor goes: one created for a move that
/// rolled back before its learner was added (the target was unreachable past the step timeout when the rollback tried
/// to destroy it) would otherwise stay forever, and would refuse every later move of the shard to its store. A replica
/// created for a move in progress looks the same, which is why shards with an operation in progress are skipped (the
/// operation may be about to add the peer, or be destroying it itself). The replica checks the version again before
/// it destroys itself, so a map that was stale when read cannot destroy a member.</para>
/// <para>A held peer of a shard the map <b>no longer names</b> is an orphan when its shard was merged away: every map
/// shard over the replica's range has a higher epoch than the replica's own descriptor. Epochs only rise along a
/// range's history (a split raises both halves' above the parent's, a merge the result's above both), so a live shard
/// the map does not name yet, a split half not yet recorded, always has an older map shard over its range (its
/// parent), while every shard over a merged-away source's range descends from the merge. Left alone even then: a
/// replica whose store also holds a replica of one of those map shards that is behind the map's epoch (it may not
/// have applied the merge yet, and a merge's commit takes the source's replica on its store over: destroying that
/// first would leave the commit waiting for it forever), replicas reported without a range (an older build), and
/// ranges with an operation in progress on any shard over them. The replica checks its own epoch again before it
/// destroys itself.</para>
/// <para>The controller group's replicas are judged by the membership rule against the group's own committed
/// descriptor (read from its leader; the group is not in the map), passed by the caller, and left alone while it is
/// unknown or an operation of the group is in flight. Its replicas are listed in heartbeats like any other.</para>
/// </summary>
public static class OrphanCollector
{
    /// <summary>At most <paramref name="max"/> orphans among the replicas each up or decommissioning store reported.</summary>
    /// <param name="controller">The controller group's committed descriptor, as its leader applied it (the group is not
    /// in the map): its replicas are judged against it by the same rule as a shard's against the map. Null when unknown
    /// (or when the caller started an operation of the group this round), and then they are left alone.</param>
    public static List<OrphanReplica> Find(ControllerMap map, IReadOnlyDictionary<StoreId, StoreRecord> stores, IReadOnlyList<OperationRecord> inProgress, IReadOnlyDictionary<StoreId, HeldReplica[]> held, int max, ShardDescriptor? controller = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        var found = new List<OrphanReplica>();
        var shards = map.Shards.ToDictionary(s => s.Id);
        foreach (var (store, replicas) in held.OrderBy(h => h.Key.Value))
        {
            if (!stores.TryGetValue(store, out var record) || record.State is not (StoreState.Up or StoreState.Decommissioning))
            {
                continue;
            }

            foreach (var replica in replicas)
            {
                if (found.Count >= max)
                {
                    return found;
                }

                ShardDescriptor? descriptor;
                if (replica.Shard == SystemShards.Controller)
                {
                    // The group never splits or merges, so only the membership rule below applies.
                    if (controller is null)
                    {
                        continue;
                    }

                    descriptor = controller;
                }
                else if (!shards.TryGetValue(replica.Shard, out descriptor))
                {
                    if (MergedAwayEpoch(map, replica, replicas, inProgress) is { } mapEpoch)
                    {
                        found.Add(new OrphanReplica(store, replica.Shard, replica.PeerId, replica.ConfVersion, 0, mapEpoch));
                    }

                    continue;
                }

                if (descriptor.Peer(replica.PeerId) is not null
                    || descriptor.ConfVersion < replica.ConfVersion
                    || (descriptor.ConfVersion == replica.ConfVersion && replica.Member)
                    || inProgress.Any(o => MergeRunner.Involves(o, replica.Shard)))
                {
                    continue;
                }

                found.Add(new OrphanReplica(store, replica.Shard, replica.PeerId, replica.ConfVersion, descriptor.ConfVersion));
            }
        }

        return found;
    }

    /// <summary>
    /// For a replica of a shard the map does not name: the lowest epoch of the map's shards over its range when every
    /// one of them is above the replica's own (its shard was merged away) and nothing on its store or in progress may
    /// still need it; otherwise null.
    /// </summary>
    private static long? MergedAwayEpoch(ControllerMap map, HeldReplica replica, HeldReplica[] sameStore, IReadOnlyList<OperationRecord> inProgress)
    {
        if (replica.Range is not { } range || inProgress.Any(o => MergeRunner.Involves(o, replica.Shard)))
        {
            return null;
        }

        long lowest = long.MaxValue;
        foreach (var over in map.Shards)
        {
            if (!over.Range.Overlaps(range.Start, range.End))
            {
                continue;
            }

            if (over.Epoch <= replica.Epoch || inProgress.Any(o => MergeRunner.Involves(o, over.Id)))
            {
                return null;
            }

            foreach (var local in sameStore)
            {
                if (local.Shard == over.Id && (local.Range is null || local.Epoch < over.Epoch))
                {
                    return null;
                }
            }

            lowest = Math.Min(lowest, over.Epoch);
        }

        return lowest == long.MaxValue ? null : lowest;
    }
}
