using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Status;

/// <summary>A point-in-time view of one replica, for `nokv cluster status` and tests.</summary>
[GenerateSerializer, Immutable, Alias("nokv.ReplicaStatus")]
public sealed class ReplicaStatus
{
    [Id(0)] public required ReplicaId Replica { get; init; }

    [Id(1)] public required ReplicaRole Role { get; init; }

    [Id(2)] public required long Term { get; init; }

    [Id(3)] public StoreId? Leader { get; init; }

    [Id(4)] public required long CommitIndex { get; init; }

    [Id(5)] public required long AppliedIndex { get; init; }

    [Id(6)] public required long LastIndex { get; init; }

    [Id(7)] public required long FirstIndex { get; init; }

    [Id(8)] public required long Epoch { get; init; }

    [Id(9)] public required string SiloAddress { get; init; }

    /// <summary>This replica's Raft peer id (not its store id).</summary>
    [Id(10)] public ulong PeerId { get; init; }

    /// <summary>The shard as this replica last applied it: range, epochs and members.</summary>
    [Id(11)] public ShardDescriptor? Descriptor { get; init; }

    /// <summary>Why this replica stopped applying (a committed entry this build cannot read), or null.</summary>
    [Id(12)] public string? ApplyHalt { get; init; }

    /// <summary>True for a replica created empty for a peer being added, until the leader's snapshot arrives.</summary>
    [Id(13)] public bool Uninitialized { get; init; }

    /// <summary>While the shard is a prepared merge source: the target shard (docs/replica.md, "Merge").</summary>
    [Id(14)] public ShardId? MergingInto { get; init; }

    /// <summary>While merging: the log index of the source's PrepareMerge entry (0 otherwise).</summary>
    [Id(15)] public long MergePrepareIndex { get; init; }

    /// <summary>While merging: the term of the source's PrepareMerge entry (0 otherwise).</summary>
    [Id(16)] public long MergePrepareTerm { get; init; }

    /// <summary>
    /// Bytes of a snapshot the replica is receiving from its leader and holds so far (0 when none is arriving): how
    /// the controller tells a learner that is still copying a large shard from one that stopped.
    /// </summary>
    [Id(17)] public long SnapshotBytesReceived { get; init; }
}
