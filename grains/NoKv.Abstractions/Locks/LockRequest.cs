using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Locks;

/// <summary>
/// A request to the lock service of the shard that owns <see cref="Name"/> (lock names route like keys).
/// Answered by the shard's leader (status too: it is a linearizable read).
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.LockRequest")]
public sealed class LockRequest
{
    [Id(0)] public required ShardId Shard { get; init; }

    [Id(1)] public required long Epoch { get; init; }

    [Id(2)] public required LockRequestKind Kind { get; init; }

    /// <summary>The lock's name; routed and limited like a key.</summary>
    [Id(3)] public required byte[] Name { get; init; }

    /// <summary>Who asks: one random id per acquisition (a lock handle), never reused.</summary>
    [Id(4)] public Guid Owner { get; init; }

    /// <summary>Renew: the fencing token the owner holds.</summary>
    [Id(5)] public long Token { get; init; }

    /// <summary>Acquire: the lease the owner asks for, in milliseconds.</summary>
    [Id(6)] public long LeaseMs { get; init; }

    /// <summary>Acquire: join the queue when the lock is held (false: answer Busy at once).</summary>
    [Id(7)] public bool Wait { get; init; }

    /// <summary>
    /// Acquire with <see cref="Wait"/>: how long the replica may hold the request open waiting for the grant (a
    /// bounded long-poll) before answering Queued; capped by the replica's request timeout.
    /// </summary>
    [Id(8)] public long PollMs { get; init; }
}
