using System.Collections.Concurrent;
using System.Globalization;
using NoKv.Abstractions.Placement;
using NoKv.Abstractions.Sharding;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace NoKv.Grains.Placement;

/// <summary>
/// Answers "which live silo hosts store N". Each NoKV silo advertises its store id in Orleans silo metadata, which
/// membership spreads to every silo. Thread-safe; reads only cached state.
/// <para>Orleans' metadata cache alone is not enough: it asks each new member once, one member at a time, and after a
/// failed ask (a silo still joining, a starved process) it does not ask again until membership changes once more,
/// which in a quiet cluster may be only when a silo dies. Meanwhile that store's replicas could not be placed and its
/// peers sent it no Raft traffic. So what the cache lacks is learned here too: <see cref="StoreDirectoryProber"/> asks
/// the silos the cache knows nothing about directly, and <see cref="Learn"/> records their answers.</para>
/// </summary>
public sealed class StoreDirectory
{
    private readonly ISiloMetadataCache _metadata;
    private readonly ISiloStatusOracle _oracle;
    private readonly ConcurrentDictionary<SiloAddress, StoreId> _learned = new();

    public StoreDirectory(ISiloMetadataCache metadata, ISiloStatusOracle oracle)
    {
        _metadata = metadata;
        _oracle = oracle;
    }

    /// <summary>The store advertised by <paramref name="silo"/>, if any.</summary>
    public StoreId? StoreOf(SiloAddress silo)
    {
        var metadata = _metadata.GetSiloMetadata(silo);
        if (metadata.Metadata.TryGetValue(StoreMetadata.StoreIdKey, out var text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
        {
            return new StoreId(id);
        }

        return _learned.TryGetValue(silo, out var learned) ? learned : null;
    }

    /// <summary>The active silo hosting <paramref name="store"/> among <paramref name="candidates"/>, or null.</summary>
    public SiloAddress? FindSilo(StoreId store, IEnumerable<SiloAddress> candidates)
    {
        foreach (var silo in candidates)
        {
            if (StoreOf(silo) == store)
            {
                return silo;
            }
        }

        return null;
    }

    /// <summary>The active silo hosting <paramref name="store"/> according to current membership, or null.</summary>
    public SiloAddress? FindActiveSilo(StoreId store)
    {
        foreach (var (silo, status) in _oracle.GetApproximateSiloStatuses(onlyActive: true))
        {
            if (status == SiloStatus.Active && StoreOf(silo) == store)
            {
                return silo;
            }
        }

        return null;
    }

    /// <summary>The stores of every active silo whose store is known, by current membership.</summary>
    public IReadOnlyCollection<StoreId> ActiveStores()
    {
        var stores = new HashSet<StoreId>();
        foreach (var (silo, status) in _oracle.GetApproximateSiloStatuses(onlyActive: true))
        {
            if (status == SiloStatus.Active && StoreOf(silo) is { } store)
            {
                stores.Add(store);
            }
        }

        return stores;
    }

    /// <summary>Active silos whose store is not known yet (neither advertised through the cache nor learned).</summary>
    public IReadOnlyList<SiloAddress> Unresolved()
    {
        var unresolved = new List<SiloAddress>();
        foreach (var (silo, status) in _oracle.GetApproximateSiloStatuses(onlyActive: true))
        {
            if (status == SiloStatus.Active && StoreOf(silo) is null)
            {
                unresolved.Add(silo);
            }
        }

        return unresolved;
    }

    /// <summary>Records the store <paramref name="silo"/> said it hosts. A silo address names one process lifetime
    /// (its generation changes on restart), so an answer never goes stale while the address is a member.</summary>
    public void Learn(SiloAddress silo, StoreId store) => _learned[silo] = store;

    /// <summary>Drops what was learned about silos that are dead or gone from membership.</summary>
    public void ForgetDeparted()
    {
        if (_learned.IsEmpty)
        {
            return;
        }

        var members = _oracle.GetApproximateSiloStatuses(onlyActive: false);
        foreach (var silo in _learned.Keys)
        {
            if (!members.TryGetValue(silo, out var status) || status == SiloStatus.Dead)
            {
                _learned.TryRemove(silo, out _);
            }
        }
    }
}
