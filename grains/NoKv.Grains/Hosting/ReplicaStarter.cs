using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Layout;
using NoKv.Grains.Store;
using NoKv.Replica.Layout;
using Orleans.Runtime;

namespace NoKv.Grains.Hosting;

/// <summary>
/// Once the silo is active, activates every replica this store hosts, so their Raft nodes elect leaders
/// and catch up without waiting for a client request. A replica that fails to start is logged and left to
/// activate on the next message: start-up is not blocked by one bad shard.
/// </summary>
public sealed partial class ReplicaStarter : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly IGrainFactory _grains;
    private readonly ClusterLayout _layout;
    private readonly LocalStore _store;
    private readonly ILogger<ReplicaStarter> _logger;

    public ReplicaStarter(IGrainFactory grains, ClusterLayout layout, LocalStore store, ILogger<ReplicaStarter> logger)
    {
        _grains = grains;
        _layout = layout;
        _store = store;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ReplicaStarter), ServiceLifecycleStage.Active, StartAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var starts = new List<Task>();
        var shards = new HashSet<ShardId>();
        foreach (var shard in _layout.BootstrapMap.Shards.Append(_layout.ControllerBootstrap))
        {
            if (shard.HasReplicaOn(_store.Id))
            {
                shards.Add(shard.Id);
            }
        }

        // Replicas created after bootstrap (by splits) exist only in the engine.
        shards.UnionWith(LocalReplicas.List(_store.Database));
        foreach (var shard in shards)
        {
            starts.Add(StartOneAsync(new ReplicaId(shard, _store.Id).ToGrainKey()));
        }

        await Task.WhenAll(starts).ConfigureAwait(false);
        LogStarted(_store.Id.Value, starts.Count);
    }

    private async Task StartOneAsync(string key)
    {
        try
        {
            await _grains.GetGrain<IShardReplicaGrain>(key).StartAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogStartFailed(key, e);
        }
    }
}
