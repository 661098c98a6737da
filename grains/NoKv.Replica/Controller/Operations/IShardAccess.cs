using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>How controller operations reach a shard's replicas (grain calls in a silo, direct calls in tests).</summary>
public interface IShardAccess
{
    /// <summary>Monotonic milliseconds, for an operation's deadlines (virtual time in the replica simulation).</summary>
    long NowMs { get; }

    /// <summary>Wall-clock Unix milliseconds, for an operation row's timestamps.</summary>
    long WallClockMs { get; }

    /// <summary>Waits before the next attempt at a replica (virtual time in the replica simulation).</summary>
    Task DelayAsync(int milliseconds, CancellationToken cancellationToken);

    /// <summary>Proposes a split to the replica of <see cref="SplitShardRequest.Shard"/> on <paramref name="store"/>.</summary>
    Task<WriteResponse> SplitAsync(StoreId store, SplitShardRequest request, CancellationToken cancellationToken);

    /// <summary>The descriptor the replica on <paramref name="store"/> applied, or null if it cannot be reached.</summary>
    Task<ShardDescriptor?> DescriptorAsync(StoreId store, ShardId shard, CancellationToken cancellationToken);

    /// <summary>The key that halves the replica's rows by size, or null.</summary>
    Task<byte[]?> MiddleKeyAsync(StoreId store, ShardId shard, CancellationToken cancellationToken);
}
