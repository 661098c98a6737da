using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

/// <summary>A single-key write routed to a shard leader. Validated by the client and again by the replica.</summary>
[GenerateSerializer, Immutable, Alias("nokv.WriteRequest")]
public sealed class WriteRequest
{
    [Id(0)] public required ShardId Shard { get; init; }

    /// <summary>The shard epoch the client routed with; a mismatch is answered with WrongShard.</summary>
    [Id(1)] public required long Epoch { get; init; }

    [Id(2)] public required WriteKind Kind { get; init; }

    [Id(3)] public required byte[] Key { get; init; }

    /// <summary>Put: the value. CompareAndSwap: the new value, or null to delete. Delete: unused.</summary>
    [Id(4)] public byte[]? Value { get; init; }

    /// <summary>CompareAndSwap only: the value that must be current, or null for "key must be absent".</summary>
    [Id(5)] public byte[]? Expected { get; init; }

    [Id(6)] public required ClientSession Session { get; init; }

    /// <summary>When set, the write applies only if no newer token for the fence's resource was seen (docs/locks.md).</summary>
    [Id(7)] public Locks.LockFence? Fence { get; init; }

    /// <summary>
    /// Put, CompareAndSwap, Expire: the value expires after this many milliseconds, counted by the shard leader's clock
    /// when it proposes the write (so retries and replicas agree on one absolute time). Zero or less: already expired
    /// (the key is removed). Null: see <see cref="ExpiresAtMs"/>.
    /// </summary>
    [Id(8)] public long? TtlMs { get; init; }

    /// <summary>Put, CompareAndSwap, Expire: when <see cref="TtlMs"/> is null, the absolute expiry in Unix ms (0: none).</summary>
    [Id(9)] public long ExpiresAtMs { get; init; }

    /// <summary>Put, CompareAndSwap: keep the expiry of the value being replaced (Redis KEEPTTL) instead of setting one.</summary>
    [Id(10)] public bool KeepExpiry { get; init; }

    /// <summary>Expire only: when the new expiry applies (Redis NX, XX, GT, LT).</summary>
    [Id(11)] public ExpireCondition ExpireCondition { get; init; }

    /// <summary>True when the write sets, keeps or changes an expiry (it travels as a timed write).</summary>
    public bool HasExpiry => TtlMs is not null || ExpiresAtMs != 0 || KeepExpiry || Kind == WriteKind.Expire;
}
