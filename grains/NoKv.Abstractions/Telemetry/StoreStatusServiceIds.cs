using Orleans.Runtime;

namespace NoKv.Abstractions.Telemetry;

/// <summary>Grain ids of <see cref="IStoreStatusService"/> instances (see <see cref="Routing.StoreServiceIds"/> for the scheme).</summary>
public static class StoreStatusServiceIds
{
    /// <summary>The grain service type code ("NoKs" in ASCII). Part of the wire identity: never change it.</summary>
    public const int TypeCode = 0x4E6F4B73;

    /// <summary>The id the silo constructs its instance with.</summary>
    public static GrainId Prototype { get; } = SystemTargetGrainId.CreateGrainServiceGrainId(TypeCode, null!, SiloAddress.Zero);

    /// <summary>The instance on silo <paramref name="silo"/> (called from inside a silo).</summary>
    public static GrainId At(SiloAddress silo) => SystemTargetGrainId.CreateGrainServiceGrainId(TypeCode, null!, silo);
}
