using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Admin;

/// <summary>Queries every replica in parallel; thread-safe.</summary>
internal sealed class NoKvAdmin : INoKvAdmin
{
    private readonly IGrainFactory _grains;

    public NoKvAdmin(IGrainFactory grains) => _grains = grains;

    public Task<MergeOutcome> MergeShardsAsync(ShardId source, ShardId target, CancellationToken cancellationToken = default) =>
        _grains.GetGrain<IControllerGrain>(ShardMapGrainKeys.Cluster).MergeShardsAsync(source, target).WaitAsync(cancellationToken);

    public Task<SplitOutcome> SplitShardAsync(ShardId shard, byte[]? key = null, CancellationToken cancellationToken = default) =>
        _grains.GetGrain<IControllerGrain>(ShardMapGrainKeys.Cluster).SplitShardAsync(shard, key).WaitAsync(cancellationToken);

    public async Task<ClusterStatus> GetClusterStatusAsync(TimeSpan perReplicaTimeout, CancellationToken cancellationToken = default)
    {
        var map = await _grains.GetGrain<IShardMapGrain>(ShardMapGrainKeys.Cluster).GetShardMapAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var pending = new List<Task<ReplicaReport>>();
        foreach (var shard in map.Shards)
        {
            // Learners too: a replica being added shows how far it has caught up.
            foreach (var peer in shard.Peers)
            {
                pending.Add(QueryAsync(shard.ReplicaOn(peer.Store), perReplicaTimeout, cancellationToken));
            }
        }

        ControllerView? view = null;
        string? controllerError = null;
        try
        {
            view = await _grains.GetGrain<IControllerGrain>(ShardMapGrainKeys.Cluster).GetViewAsync().WaitAsync(perReplicaTimeout * 3, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            controllerError = e is TimeoutException ? $"no answer within {(perReplicaTimeout * 3).TotalMilliseconds:F0} ms" : e.Message;
        }

        // The controller group's stores as the controller reports them; without it, where a layout puts them (the
        // first 3 stores, 5 when there are 5 or more).
        var groupStores = view?.GroupStores ?? map.Stores.Select(s => s.Id).Order().Take(map.Stores.Length >= 5 ? 5 : 3).ToArray();
        var controller = await Task.WhenAll(groupStores.Select(s => QueryAsync(new ReplicaId(SystemShards.Controller, s), perReplicaTimeout, cancellationToken))).ConfigureAwait(false);
        var replicas = await Task.WhenAll(pending).ConfigureAwait(false);
        return new ClusterStatus(map, replicas) { Controller = view, ControllerError = controllerError, ControllerReplicas = controller };
    }

    public Task<long> MoveReplicaAsync(ShardId shard, StoreId from, StoreId to, CancellationToken cancellationToken = default) =>
        Controller.StartOperationAsync(OperationKind.MoveReplica, shard, from, to).WaitAsync(cancellationToken);

    public Task DecommissionStoreAsync(StoreId store, CancellationToken cancellationToken = default) =>
        Controller.DecommissionStoreAsync(store).WaitAsync(cancellationToken);

    public Task<long> TransferLeaderAsync(ShardId shard, StoreId to, CancellationToken cancellationToken = default) =>
        Controller.StartOperationAsync(OperationKind.TransferLeader, shard, null, to).WaitAsync(cancellationToken);

    private IControllerGrain Controller => _grains.GetGrain<IControllerGrain>(ShardMapGrainKeys.Cluster);

    private async Task<ReplicaReport> QueryAsync(ReplicaId replica, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var status = await _grains.GetGrain<IShardReplicaGrain>(replica.ToGrainKey()).GetStatusAsync().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return new ReplicaReport(replica, status, null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new ReplicaReport(replica, null, e is TimeoutException ? $"no answer within {timeout.TotalMilliseconds:F0} ms" : e.Message);
        }
    }
}
