using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Locks;

[GenerateSerializer, Immutable, Alias("nokv.LockResponse")]
public sealed class LockResponse : IReplicaResponse
{
    [Id(0)] public required NoKvErrorCode Code { get; init; }

    [Id(1)] public StoreId? LeaderHint { get; init; }

    [Id(2)] public long CurrentEpoch { get; init; }

    [Id(3)] public string? Detail { get; init; }

    [Id(4)] public LockOutcome Outcome { get; init; }

    /// <summary>Granted, Renewed: the caller's fencing token. Status: the holder's token (0 when free).</summary>
    [Id(5)] public long Token { get; init; }

    /// <summary>Queued: the caller's place in the queue, 1 = next.</summary>
    [Id(6)] public int QueuePosition { get; init; }

    /// <summary>Status: the holder (null when free).</summary>
    [Id(7)] public Guid? Holder { get; init; }

    /// <summary>Status: owners waiting.</summary>
    [Id(8)] public int Waiters { get; init; }

    /// <summary>Status: the highest token the lock ever granted (0 if never).</summary>
    [Id(9)] public long LastToken { get; init; }

    /// <summary>Status: the holder's lease in milliseconds.</summary>
    [Id(10)] public long LeaseMs { get; init; }
}
