namespace NoKv.Abstractions.Sharding;

/// <summary>
/// The identity of one shard, which is also the identity of the Raft group that replicates it. Shard ids
/// are never reused: a later split gives the right half a fresh id, so a stale message for an old id can
/// never be mistaken for the new group.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.ShardId")]
public readonly record struct ShardId([property: Id(0)] long Value) : IComparable<ShardId>
{
    public int CompareTo(ShardId other) => Value.CompareTo(other.Value);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
