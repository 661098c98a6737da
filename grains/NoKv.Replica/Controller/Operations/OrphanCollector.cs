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
/// created for a move in progress looks the same, which is why shards with an operation in progress are skipped. A shard named by an operation in progress is left alone (the operation may be about to
/// add the peer, or be destroying it itself), as is a shard the map does not know (a split half not yet recorded, a
/// merge source the merge cleans up). The replica checks the version again before it destroys itself, so a map that
/// was stale when read cannot destroy a member.</para>
/// </summary>
public static class OrphanCollector
{
    /// <summary>At most <paramref name="max"/> orphans among the replicas each up or decommissioning store reported.</summary>
    public static List<OrphanReplica> Find(ControllerMap map, IReadOnlyDictionary<StoreId, StoreRecord> stores, IReadOnlyList<OperationRecord> inProgress, IReadOnlyDictionary<StoreId, HeldReplica[]> held, int max)
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

                if (replica.Shard == SystemShards.Controller
                    || !shards.TryGetValue(replica.Shard, out var descriptor)
                    || descriptor.Peer(replica.PeerId) is not null
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
}
