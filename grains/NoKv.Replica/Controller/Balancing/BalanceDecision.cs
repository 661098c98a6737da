using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Balancing;

/// <summary>
/// An operation the balancer wants started: a leader transfer, a replica move, a split (at <see cref="SplitKey"/>, the
/// key that halves the load, for a split by load; with no key, at the middle by size) or a merge of
/// <see cref="Shard"/> into its neighbour <see cref="Target"/>.
/// </summary>
public sealed record BalanceDecision(OperationKind Kind, ShardId Shard, StoreId? From, StoreId? To, string Reason, ShardId? Target = null, byte[]? SplitKey = null)
{
    public override string ToString() => Kind switch
    {
        OperationKind.TransferLeader => $"prefer store {To} to lead shard {Shard} (was {From}): {Reason}",
        OperationKind.MoveReplica => $"move shard {Shard}'s replica from store {From} to store {To}: {Reason}",
        OperationKind.Split => SplitKey is null ? $"split shard {Shard}: {Reason}" : $"split shard {Shard} at {Convert.ToHexString(SplitKey)}: {Reason}",
        OperationKind.Merge => $"merge shard {Shard} into shard {Target}: {Reason}",
        _ => $"{Kind} shard {Shard}: {Reason}",
    };
}
