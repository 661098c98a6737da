using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Requests;

/// <summary>
/// One command of a merge, proposed to the leader of <see cref="Shard"/> (docs/replica.md, "Merge"): a
/// <see cref="MergeStep.Prepare"/> to the source names <see cref="Target"/>; a <see cref="MergeStep.Commit"/> to the
/// target carries <see cref="Source"/> as its prepare left it and the prepare's log position; a
/// <see cref="MergeStep.Rollback"/> to the source names the prepare's index. Refused with WrongShard unless the shard is at
/// <see cref="ExpectedEpoch"/> (and, for prepare and commit, <see cref="ExpectedConfVersion"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.MergeShardRequest")]
public sealed class MergeShardRequest
{
    [Id(0)] public required ShardId Shard { get; init; }

    [Id(1)] public required MergeStep Step { get; init; }

    [Id(2)] public required long ExpectedEpoch { get; init; }

    [Id(3)] public long ExpectedConfVersion { get; init; }

    [Id(4)] public ShardId Target { get; init; }

    [Id(5)] public ShardDescriptor? Source { get; init; }

    [Id(6)] public long PrepareIndex { get; init; }

    [Id(7)] public long PrepareTerm { get; init; }
}
