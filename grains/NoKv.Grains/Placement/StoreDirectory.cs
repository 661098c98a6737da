using System.Globalization;
using NoKv.Abstractions.Placement;
using NoKv.Abstractions.Sharding;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace NoKv.Grains.Placement;

/// <summary>
/// Answers "which live silo hosts store N": each NoKV silo advertises its store id in Orleans silo
/// metadata, which membership spreads to every silo. Thread-safe; reads only cached membership state.
/// A silo's metadata reaches the others shortly after it joins; until then its store looks unavailable.
/// </summary>
public sealed class StoreDirectory
{
    private readonly ISiloMetadataCache _metadata;
    private readonly ISiloStatusOracle _oracle;

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

        return null;
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
}
