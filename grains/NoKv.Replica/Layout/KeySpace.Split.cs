namespace NoKv.Replica.Layout;

/// <summary>
/// The split history of a shard: <c>0x01 | shard | 0x0F</c>, one row (<see cref="SplitHistoryCodec"/>) listing the new
/// shards its most recent splits created, as they were created. It travels in the shard's snapshots, so a replica that
/// skips a split by installing a later snapshot learns which new shards it holds a peer of and creates them (empty; their
/// leaders send them a snapshot). Never renumber the tag.
/// </summary>
public static partial class KeySpace
{
    private const byte SplitHistoryTag = 0x0F;

    public static byte[] SplitHistoryKey(Abstractions.Sharding.ShardId shard) => Tag(shard, SplitHistoryTag);

    /// <summary>First key after <see cref="SplitHistoryKey"/>, for exporting and ingesting it as a range.</summary>
    public static byte[] SplitHistoryEnd(Abstractions.Sharding.ShardId shard) => Tag(shard, SplitHistoryTag + 1);
}
