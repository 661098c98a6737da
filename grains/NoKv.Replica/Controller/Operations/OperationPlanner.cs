using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// Decides which operations to start from the committed controller state: every replica on a store that is down
/// (for longer than the store timeout: only then is it marked down) is re-replicated elsewhere, every replica on a
/// decommissioning store is moved away. Deciding is pure and separate from doing (the runners), so a crash loses
/// at most a decision, which the next evaluation makes again. One operation per shard at a time. The controller
/// group's own replicas come first: every other repair goes through the controller, so it is the group that must
/// not lose its quorum.
/// </summary>
public static class OperationPlanner
{
    /// <summary>The controller group's voters while fewer than <see cref="ControllerGroupLargeVoters"/> stores can hold one.</summary>
    public const int ControllerGroupVoters = 3;

    /// <summary>The controller group's voters once that many stores are up: two failures tolerated instead of one.</summary>
    public const int ControllerGroupLargeVoters = 5;

    /// <summary>The operations to start now, at most <paramref name="maxInProgress"/> running in all.</summary>
    /// <param name="usedBytes">Bytes each store uses (from heartbeats; 0 when unknown), to break ties between targets with equal replica counts.</param>
    /// <param name="isSlow">Whether a store reports a slow disk (from heartbeats): such a store is a target only when no other will do.</param>
    /// <param name="controller">The controller group's committed descriptor (it is not in the map); null when unknown,
    /// and then its replicas are left alone this round.</param>
    /// <param name="controllerVoters">How many voters the controller group grows to once that many stores are up
    /// (<see cref="ControllerGroupLargeVoters"/>; <see cref="ControllerGroupVoters"/> keeps it at three).</param>
    public static List<PlannedOperation> Plan(ControllerMap map, IReadOnlyDictionary<StoreId, StoreRecord> stores, IReadOnlyList<OperationRecord> inProgress, int maxInProgress, Func<StoreId, long>? usedBytes = null, Func<StoreId, bool>? isSlow = null, ShardDescriptor? controller = null, int controllerVoters = ControllerGroupLargeVoters)
    {
        var planned = new List<PlannedOperation>();
        int budget = maxInProgress - inProgress.Count;
        if (budget <= 0)
        {
            return planned;
        }

        var busy = new HashSet<ShardId>();
        var load = new Dictionary<StoreId, int>();
        foreach (var shard in map.Shards)
        {
            foreach (var peer in shard.Peers)
            {
                load[peer.Store] = load.GetValueOrDefault(peer.Store) + 1;
            }
        }

        foreach (var op in inProgress)
        {
            busy.Add(op.Shard);
            if (op.Kind == OperationKind.Merge)
            {
                busy.Add(MergeRunner.TargetOf(op));
            }

            if (op.Kind is OperationKind.MoveReplica or OperationKind.ReReplicate && op.To is { } to)
            {
                load[to] = load.GetValueOrDefault(to) + 1;
            }
        }

        if (controller is not null && !busy.Contains(SystemShards.Controller)
            && PlanControllerGroup(controller, stores, load, usedBytes, isSlow, controllerVoters) is { } group)
        {
            // One operation of the group at a time, whatever it is: each is a series of single conf changes of the group
            // itself, and two in flight could each count on a quorum the other is changing.
            planned.Add(group);
            busy.Add(SystemShards.Controller);
            if (group.To is { } to)
            {
                load[to] = load.GetValueOrDefault(to) + 1;
            }

            budget--;
        }

        foreach (var (id, store) in stores.OrderBy(s => s.Key.Value))
        {
            if (store.State is not (StoreState.Down or StoreState.Decommissioning))
            {
                continue;
            }

            foreach (var shard in map.Shards)
            {
                if (budget <= 0)
                {
                    return planned;
                }

                if (shard.PeerOn(id) is not { } peer || busy.Contains(shard.Id))
                {
                    continue;
                }

                if (ChooseTarget(shard, stores, load, usedBytes, isSlow) is not { } target)
                {
                    continue;
                }

                var kind = store.State == StoreState.Down ? OperationKind.ReReplicate : OperationKind.MoveReplica;
                planned.Add(new PlannedOperation(kind, shard.Id, id, target, peer.PeerId));
                busy.Add(shard.Id);
                load[target] = load.GetValueOrDefault(target) + 1;
                budget--;
            }
        }

        return planned;
    }

    /// <summary>
    /// The one operation the controller group needs now, or null. In order:
    /// <list type="number">
    /// <item>While fewer than <paramref name="largeVoters"/> (<see cref="ControllerGroupLargeVoters"/>) stores remain that are up or merely down (the rest
    /// decommissioning or removed, so gone for good) and the group has more than <see cref="ControllerGroupVoters"/>
    /// voters: <b>shrink</b> by one, removing the voter on a down store first (it only weighs on the quorum), then one on
    /// a decommissioning store, then the one on the up store holding the most replicas (the preferred leader last).</item>
    /// <item>A voter on a down, decommissioning or removed store is moved to the least loaded up store without a replica
    /// of the group (re-replication unless draining), as for any shard.</item>
    /// <item>While at least <paramref name="largeVoters"/> stores are up and the group has fewer voters (and
    /// no learner, which only an operation in flight or its rollback leaves): <b>grow</b> by one, a move without a
    /// source (learner on the least loaded up store without a replica, catch up, promote).</item>
    /// </list>
    /// A store that is merely down never shrinks the group: it is re-replicated, and while no store can take its replica
    /// the group keeps its voter there (one failure short, still with a quorum of live voters).
    /// </summary>
    public static PlannedOperation? PlanControllerGroup(ShardDescriptor controller, IReadOnlyDictionary<StoreId, StoreRecord> stores, IReadOnlyDictionary<StoreId, int> load, Func<StoreId, long>? usedBytes = null, Func<StoreId, bool>? isSlow = null, int largeVoters = ControllerGroupLargeVoters)
    {
        ArgumentNullException.ThrowIfNull(controller);
        int up = 0, remaining = 0;
        foreach (var record in stores.Values)
        {
            up += record.State == StoreState.Up ? 1 : 0;
            remaining += record.State is StoreState.Up or StoreState.Down ? 1 : 0;
        }

        var voters = controller.Peers.Where(p => p.Role == PeerRole.Voter).ToList();
        // Which voter goes first when shrinking: one on a down store, then on a store gone or draining, then live ones.
        int Rank(StoreId store) => !stores.TryGetValue(store, out var record) ? 1 : record.State switch
        {
            StoreState.Down => 0,
            StoreState.Removed => 1,
            StoreState.Decommissioning => 2,
            _ => 3,
        };

        if (remaining < largeVoters && voters.Count > ControllerGroupVoters)
        {
            var first = controller.Replicas.Length > 0 ? controller.Replicas[0] : default;
            var removed = voters
                .OrderBy(p => Rank(p.Store))
                .ThenBy(p => p.Store == first ? 1 : 0)
                .ThenByDescending(p => load.GetValueOrDefault(p.Store))
                .ThenByDescending(p => p.Store.Value)
                .First();
            var kind = !stores.TryGetValue(removed.Store, out var where) || where.State is StoreState.Down or StoreState.Removed ? OperationKind.ReReplicate : OperationKind.MoveReplica;
            return new PlannedOperation(kind, SystemShards.Controller, removed.Store, null, removed.PeerId);
        }

        foreach (var (id, store) in stores.OrderBy(s => s.Key.Value))
        {
            // A voter on a removed store (an operator removed a store dead for good before its voter was moved) is
            // re-replicated like one on a down store.
            if (store.State is not (StoreState.Down or StoreState.Decommissioning or StoreState.Removed) || controller.PeerOn(id) is not { } peer)
            {
                continue;
            }

            // One replica of the group at a time; with no target for the first, none for the others either.
            return ChooseTarget(controller, stores, load, usedBytes, isSlow) is { } target
                ? new PlannedOperation(store.State == StoreState.Decommissioning ? OperationKind.MoveReplica : OperationKind.ReReplicate, SystemShards.Controller, id, target, peer.PeerId)
                : null;
        }

        if (up >= largeVoters && voters.Count < largeVoters && voters.Count == controller.Peers.Length
            && ChooseTarget(controller, stores, load, usedBytes, isSlow) is { } grow)
        {
            return new PlannedOperation(OperationKind.MoveReplica, SystemShards.Controller, null, grow, 0);
        }

        return null;
    }

    /// <summary>
    /// Decommissioning stores that hold no replica (of a user shard or, by <paramref name="controller"/>, of the
    /// controller group) and are named by no operation: ready to be marked removed. Nothing is drained while the
    /// controller group's membership is unknown.
    /// </summary>
    public static List<StoreId> Drained(ControllerMap map, IReadOnlyDictionary<StoreId, StoreRecord> stores, IReadOnlyList<OperationRecord> inProgress, ShardDescriptor? controller)
    {
        var drained = new List<StoreId>();
        if (controller is null)
        {
            return drained;
        }

        foreach (var (id, record) in stores)
        {
            if (record.State == StoreState.Decommissioning
                && !controller.HasReplicaOn(id)
                && !map.Shards.Any(s => s.HasReplicaOn(id))
                && !inProgress.Any(o => o.From == id || o.To == id))
            {
                drained.Add(id);
            }
        }

        return drained;
    }

    /// <summary>
    /// The up store without a replica of <paramref name="shard"/> whose disk is not slow, then that holds the fewest
    /// replicas, then the fewest bytes, then the lowest id. A slow store still takes the replica when it is the only
    /// one left: a shard back at full strength on a slow disk beats one a failure away from losing its quorum.
    /// </summary>
    public static StoreId? ChooseTarget(ShardDescriptor shard, IReadOnlyDictionary<StoreId, StoreRecord> stores, IReadOnlyDictionary<StoreId, int> load, Func<StoreId, long>? usedBytes, Func<StoreId, bool>? isSlow = null)
    {
        StoreId? best = null;
        (int Slow, int Count, long Bytes, int Id) bestKey = default;
        foreach (var (id, record) in stores)
        {
            if (record.State != StoreState.Up || shard.HasReplicaOn(id))
            {
                continue;
            }

            var key = (isSlow?.Invoke(id) == true ? 1 : 0, load.GetValueOrDefault(id), usedBytes?.Invoke(id) ?? 0, id.Value);
            if (best is null || key.CompareTo(bestKey) < 0)
            {
                best = id;
                bestKey = key;
            }
        }

        return best;
    }
}
