using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Errors;

/// <summary>The addressed replica is not its shard's leader. <see cref="LeaderHint"/> is the store it believes leads, if any.</summary>
[GenerateSerializer, Alias("nokv.NotLeaderException")]
public sealed class NotLeaderException : NoKvException
{
    public NotLeaderException(ShardId shard, StoreId? leaderHint)
        : base(NoKvErrorCode.NotLeader, $"Shard {shard}: this replica is not the leader{(leaderHint is { } l ? $"; leader is believed to be store {l}" : "; no leader known (election in progress)")}.")
    {
        Shard = shard;
        LeaderHint = leaderHint;
    }

    [Id(0)]
    public ShardId Shard { get; }

    [Id(1)]
    public StoreId? LeaderHint { get; }
}
