using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Errors;

/// <summary>The request was routed with a stale shard map: wrong epoch, or a key outside the shard's range.</summary>
[GenerateSerializer, Alias("nokv.WrongShardException")]
public sealed class WrongShardException : NoKvException
{
    public WrongShardException(ShardId shard, long requestEpoch, long currentEpoch, string detail)
        : base(NoKvErrorCode.WrongShard, $"Shard {shard}: request routed with epoch {requestEpoch}, current epoch is {currentEpoch}: {detail}")
    {
        Shard = shard;
        RequestEpoch = requestEpoch;
        CurrentEpoch = currentEpoch;
    }

    [Id(0)]
    public ShardId Shard { get; }

    [Id(1)]
    public long RequestEpoch { get; }

    [Id(2)]
    public long CurrentEpoch { get; }
}
