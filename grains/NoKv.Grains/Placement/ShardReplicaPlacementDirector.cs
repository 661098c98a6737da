using System.Globalization;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Placement;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Store;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace NoKv.Grains.Placement;

/// <summary>
/// Places a replica grain ("shard/store") on the one silo that owns the store. If no live silo owns it the
/// activation fails with <see cref="StoreUnavailableException"/>: creating the replica anywhere else would
/// start an empty Raft node under the same id and could elect a leader without the store's log.
/// </summary>
public sealed class ShardReplicaPlacementDirector : IPlacementDirector
{
    private readonly StoreDirectory _stores;
    private readonly LocalStore _local;

    public ShardReplicaPlacementDirector(StoreDirectory stores, LocalStore local)
    {
        _stores = stores;
        _local = local;
    }

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString();
        if (!ReplicaId.TryParse(key, out var replica))
        {
            throw new ArgumentException($"'{key}' is not a replica grain key; expected \"shard/store\".");
        }

        var compatible = context.GetCompatibleSilos(target);
        var silo = _stores.FindSilo(replica.Store, compatible);
        if (silo is not null)
        {
            return Task.FromResult(silo);
        }

        // The local silo knows its own store before its metadata has spread through membership.
        if (replica.Store == _local.Id && Array.IndexOf(compatible, context.LocalSilo) >= 0)
        {
            return Task.FromResult(context.LocalSilo);
        }

        // Active but not (yet) listed as able to host replica grains: Orleans learns each silo's grain types from its
        // manifest, fetched like its metadata. Every NoKV silo runs the same grains, so the store's own silo can.
        if (_stores.FindActiveSilo(replica.Store) is { } active)
        {
            return Task.FromResult(active);
        }

        throw new StoreUnavailableException(replica.Store, $"no live silo hosts it, so replica {replica} cannot be activated ({compatible.Length} compatible silos; stores known: {string.Join(", ", compatible.Select(s => $"{s}={_stores.StoreOf(s)?.Value.ToString(CultureInfo.InvariantCulture) ?? "?"}"))}).");
    }
}
