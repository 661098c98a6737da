using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Errors;

/// <summary>Turns a final (non-Ok) response code into the typed exception callers see.</summary>
public static class NoKvErrors
{
    public static NoKvException FromCode(NoKvErrorCode code, ShardId shard, StoreId? leaderHint, long epoch, string? detail) => code switch
    {
        NoKvErrorCode.NotLeader => new NotLeaderException(shard, leaderHint),
        NoKvErrorCode.WrongShard => new WrongShardException(shard, 0, epoch, detail ?? "stale routing"),
        NoKvErrorCode.EmptyKey => new EmptyKeyException(),
        NoKvErrorCode.InvalidRange => new InvalidRangeException(detail ?? "rejected by the replica"),
        NoKvErrorCode.FencedOut => new FencedOutException(detail ?? "a newer fencing token was seen"),
        NoKvErrorCode.Unauthenticated => new UnauthenticatedException(detail ?? "rejected by the replica"),
        NoKvErrorCode.InvalidLockRequest => new InvalidLockRequestException(detail ?? "rejected by the replica"),
        _ => new NoKvException(code, $"Shard {shard}: {code}{(detail is null ? "" : $": {detail}")}"),
    };
}
