using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Routing;
using Orleans.Runtime;

namespace NoKv.Client.Tests.Fakes;

/// <summary>
/// Hands out the fakes a client asks for: replica grains by key, the shard map grain, and store services by grain
/// id. Anything else the client never asks for, so it throws.
/// </summary>
internal sealed class FakeGrainFactory : IGrainFactory
{
    private readonly Func<string, IShardReplicaGrain>? _replicas;
    private readonly Func<IShardMapGrain>? _map;
    private readonly Func<GrainId, IStoreService>? _services;

    public FakeGrainFactory(Func<string, IShardReplicaGrain>? replicas = null, Func<IShardMapGrain>? map = null, Func<GrainId, IStoreService>? services = null)
    {
        _replicas = replicas;
        _map = map;
        _services = services;
    }

    TGrainInterface IGrainFactory.GetGrain<TGrainInterface>(string primaryKey, string? grainClassNamePrefix) =>
        typeof(TGrainInterface) == typeof(IShardReplicaGrain) && _replicas is not null
            ? (TGrainInterface)_replicas(primaryKey)
            : throw Unexpected(typeof(TGrainInterface));

    TGrainInterface IGrainFactory.GetGrain<TGrainInterface>(long primaryKey, string? grainClassNamePrefix) =>
        typeof(TGrainInterface) == typeof(IShardMapGrain) && _map is not null
            ? (TGrainInterface)_map()
            : throw Unexpected(typeof(TGrainInterface));

    TGrainInterface IGrainFactory.GetGrain<TGrainInterface>(GrainId grainId) =>
        typeof(TGrainInterface) == typeof(IStoreService) && _services is not null
            ? (TGrainInterface)_services(grainId)
            : throw Unexpected(typeof(TGrainInterface));

    TGrainInterface IGrainFactory.GetGrain<TGrainInterface>(Guid primaryKey, string? grainClassNamePrefix) => throw Unexpected(typeof(TGrainInterface));

    TGrainInterface IGrainFactory.GetGrain<TGrainInterface>(Guid primaryKey, string keyExtension, string? grainClassNamePrefix) => throw Unexpected(typeof(TGrainInterface));

    TGrainInterface IGrainFactory.GetGrain<TGrainInterface>(long primaryKey, string keyExtension, string? grainClassNamePrefix) => throw Unexpected(typeof(TGrainInterface));

    TGrainObserverInterface IGrainFactory.CreateObjectReference<TGrainObserverInterface>(IGrainObserver obj) => throw Unexpected(typeof(TGrainObserverInterface));

    void IGrainFactory.DeleteObjectReference<TGrainObserverInterface>(IGrainObserver obj) => throw Unexpected(typeof(TGrainObserverInterface));

    IAddressable IGrainFactory.GetGrain(GrainId grainId) => throw Unexpected(typeof(IAddressable));

    IAddressable IGrainFactory.GetGrain(GrainId grainId, GrainInterfaceType interfaceType) => throw Unexpected(typeof(IAddressable));

    IGrain IGrainFactory.GetGrain(Type grainInterfaceType, Guid grainPrimaryKey) => throw Unexpected(grainInterfaceType);

    IGrain IGrainFactory.GetGrain(Type grainInterfaceType, Guid grainPrimaryKey, string keyExtension) => throw Unexpected(grainInterfaceType);

    IAddressable IGrainFactory.GetGrain(Type grainInterfaceType, IdSpan grainPrimaryKey) => throw Unexpected(grainInterfaceType);

    IAddressable IGrainFactory.GetGrain(Type grainInterfaceType, IdSpan grainPrimaryKey, string grainClassNamePrefix) => throw Unexpected(grainInterfaceType);

    IGrain IGrainFactory.GetGrain(Type grainInterfaceType, long grainPrimaryKey) => throw Unexpected(grainInterfaceType);

    IGrain IGrainFactory.GetGrain(Type grainInterfaceType, long grainPrimaryKey, string keyExtension) => throw Unexpected(grainInterfaceType);

    IGrain IGrainFactory.GetGrain(Type grainInterfaceType, string grainPrimaryKey) => throw Unexpected(grainInterfaceType);

    private static NotSupportedException Unexpected(Type type) => new($"The client under test asked for a {type.Name}, which these tests do not fake.");
}
