using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Errors;

/// <summary>
/// The store that hosts a replica has no live silo. Thrown by the placement director instead of creating
/// the replica on another silo, which would fork the replica's Raft state.
/// </summary>
[GenerateSerializer, Alias("nokv.StoreUnavailableException")]
public sealed class StoreUnavailableException : NoKvException
{
    public StoreUnavailableException(StoreId store, string detail)
        : base(NoKvErrorCode.StoreUnavailable, $"Store {store} is unavailable: {detail}") => Store = store;

    [Id(0)]
    public StoreId Store { get; }
}
