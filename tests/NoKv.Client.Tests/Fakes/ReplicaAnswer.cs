using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Tests.Fakes;

/// <summary>
/// What a fake replica answers: a code, for NotLeader the leader it names (if any), and the descriptors it carries
/// (a replica's own with NotLeader, its split chain with WrongShard).
/// </summary>
internal readonly record struct ReplicaAnswer(NoKvErrorCode Code, StoreId? Hint = null, ShardDescriptor[]? Current = null)
{
    public static ReplicaAnswer Ok { get; } = new(NoKvErrorCode.Ok);

    public static ReplicaAnswer NotLeader(int? hint) => new(NoKvErrorCode.NotLeader, hint is { } h ? new StoreId(h) : null);
}
