namespace NoKv.Silo.Http.Api;

/// <summary>One shard: range, epoch, leader and the Raft state of each replica; size is the leader's estimate (else the largest).</summary>
public sealed record ApiShard(
    long Id,
    string Start,
    string End,
    long Epoch,
    int? Leader,
    long Term,
    long CommitIndex,
    long AppliedIndex,
    long SizeBytes,
    long Keys,
    double WritesPerSecond,
    double ReadsPerSecond,
    IReadOnlyList<ApiReplica> Replicas);
