using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Layout;
using NoKv.Grains.Placement;
using Orleans.Concurrency;

namespace NoKv.Grains.Metadata;

/// <summary>
/// Serves the bootstrap shard map with live store status. A stateless worker, so each silo answers from
/// its own copy (the layout is identical everywhere) and the map stays reachable while any silo is up.
/// </summary>
[StatelessWorker(1)]
public sealed class ShardMapGrain : Grain, IShardMapGrain
{
    private readonly ClusterLayout _layout;
    private readonly StoreDirectory _stores;

    public ShardMapGrain(ClusterLayout layout, StoreDirectory stores)
    {
        _layout = layout;
        _stores = stores;
    }

    public Task<ShardMap> GetShardMapAsync()
    {
        var bootstrap = _layout.BootstrapMap;
        var stores = new StoreDescriptor[_layout.Stores.Count];
        for (int i = 0; i < stores.Length; i++)
        {
            var id = _layout.Stores[i];
            var silo = _stores.FindActiveSilo(id);
            stores[i] = new StoreDescriptor(id, silo?.ToString(), silo is not null);
        }

        return Task.FromResult(new ShardMap(bootstrap.Version, bootstrap.Shards, stores));
    }
}
