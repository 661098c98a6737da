using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Balancing;

/// <summary>An operation the balancer wants started: a leader transfer, a replica move or a split (no key: the middle by size).</summary>
public sealed record BalanceDecision(OperationKind Kind, ShardId Shard, StoreId? From, StoreId? To, string Reason)
{
    public override string ToString() => Kind switch
    {
        OperationKind.TransferLeader => $"prefer store {To} to lead shard {Shard} (was {From}): {Reason}",
        OperationKind.MoveReplica => $"move shard {Shard}'s replica from store {From} to store {To}: {Reason}",
        OperationKind.Split => $"split shard {Shard}: {Reason}",
        _ => $"{Kind} shard {Shard}: {Reason}",
    };
}
