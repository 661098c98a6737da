using Orleans.Runtime;

namespace NoKv.Abstractions.Raft;

/// <summary>Grain ids of <see cref="IRaftTransportService"/> instances.</summary>
public static class RaftTransportIds
{
    /// <summary>The grain service type code ("NoKr" in ASCII). Part of the wire identity: never change it.</summary>
    public const int TypeCode = 0x4E6F4B72;

    /// <summary>The id the silo constructs its instance with.</summary>
    public static GrainId Prototype { get; } = SystemTargetGrainId.CreateGrainServiceGrainId(TypeCode, null!, SiloAddress.Zero);

    /// <summary>The instance on silo <paramref name="silo"/> (called from inside a silo).</summary>
    public static GrainId At(SiloAddress silo) => SystemTargetGrainId.CreateGrainServiceGrainId(TypeCode, null!, silo);
}
