using Orleans.Runtime;

namespace NoKv.Abstractions.Routing;

/// <summary>
/// Grain ids of <see cref="IStoreService"/> instances. Silo and client derive the grain type from the same
/// constant, so neither needs the other's type metadata. The silo registers its instance under
/// <see cref="Prototype"/> (Orleans replaces the address with the silo's own); a client addresses a silo by its
/// gateway address with generation 0, exactly as the client's gateway manager lists it, because only then
/// does the client send the message straight to that gateway, which serves a system-target message naming
/// itself locally.
/// </summary>
public static class StoreServiceIds
{
    /// <summary>The grain service type code ("NoKv" in ASCII). Part of the wire identity: never change it.</summary>
    public const int TypeCode = 0x4E6F4B76;

    /// <summary>The id the silo constructs its instance with.</summary>
    public static GrainId Prototype { get; } = SystemTargetGrainId.CreateGrainServiceGrainId(TypeCode, null!, SiloAddress.Zero);

    /// <summary>
    /// The id of the instance reached through <paramref name="address"/>: from an external client, the silo's
    /// gateway address with generation 0; from inside a silo, the target silo's own address.
    /// </summary>
    public static GrainId At(SiloAddress address) => SystemTargetGrainId.CreateGrainServiceGrainId(TypeCode, null!, address);
}
