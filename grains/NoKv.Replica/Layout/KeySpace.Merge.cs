namespace NoKv.Replica.Layout;

/// <summary>
/// The merge state of a shard: <c>0x01 | shard | 0x10</c>, one row (<see cref="MergeStateCodec"/>) present from the
/// entry that prepared the shard as a merge source until the merge is rolled back or the source is gone. It travels in
/// the shard's snapshots (image version 5), so a replica that catches up by snapshot knows it is frozen. Never renumber
/// the tag.
/// </summary>
public static partial class KeySpace
{
    private const byte MergeStateTag = 0x10;

    public static byte[] MergeStateKey(Abstractions.Sharding.ShardId shard) => Tag(shard, MergeStateTag);

    /// <summary>First key after <see cref="MergeStateKey"/>, for exporting and ingesting it as a range.</summary>
    public static byte[] MergeStateEnd(Abstractions.Sharding.ShardId shard) => Tag(shard, MergeStateTag + 1);
}
