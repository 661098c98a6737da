using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Admin;

/// <summary>Queries every replica in parallel; thread-safe.</summary>
internal sealed class NoKvAdmin : INoKvAdmin
{
    private readonly IGrainFactory _grains;

    public NoKvAdmin(IGrainFactory grains) => _grains = grains;

    public async Task<ClusterStatus> GetClusterStatusAsync(TimeSpan perReplicaTimeout, CancellationToken cancellationToken = default)
    {
        var map = await _grains.GetGrain<IShardMapGrain>(ShardMapGrainKeys.Cluster).GetShardMapAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var pending = new List<Task<ReplicaReport>>();
        foreach (var shard in map.Shards)
        {
            foreach (var store in shard.Replicas)
            {
                pending.Add(QueryAsync(shard.ReplicaOn(store), perReplicaTimeout, cancellationToken));
            }
        }

        return new ClusterStatus(map, await Task.WhenAll(pending).ConfigureAwait(false));
    }

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
