namespace NoKv.Abstractions.Sharding;

/// <summary>
/// One shard: its key range, its epoch and the stores holding its replicas.
/// The epoch grows whenever the range or the replica set changes (split, merge, move); a request carries
/// the epoch the client routed with, and a replica whose epoch differs answers WrongShard, so no request
/// is ever applied against a range the client did not mean.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.ShardDescriptor")]
public sealed class ShardDescriptor
{
    public ShardDescriptor(ShardId id, KeyRange range, long epoch, StoreId[] replicas)
    {
        ArgumentNullException.ThrowIfNull(range);
        ArgumentNullException.ThrowIfNull(replicas);
        if (epoch <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "A shard epoch starts at 1.");
        }

        Id = id;
        Range = range;
        Epoch = epoch;
        Replicas = replicas;
    }

    [Id(0)]
    public ShardId Id { get; }

    [Id(1)]
    public KeyRange Range { get; }

    [Id(2)]
    public long Epoch { get; }

    /// <summary>Stores holding a voting replica, distinct, in a stable order. Never mutated.</summary>
    [Id(3)]
    public StoreId[] Replicas { get; }

    public bool HasReplicaOn(StoreId store) => Array.IndexOf(Replicas, store) >= 0;

    public ReplicaId ReplicaOn(StoreId store) => new(Id, store);

    public override string ToString() => $"shard {Id} {Range} epoch {Epoch} replicas [{string.Join(",", Replicas)}]";
}
