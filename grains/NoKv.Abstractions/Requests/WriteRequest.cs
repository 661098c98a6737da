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
}
