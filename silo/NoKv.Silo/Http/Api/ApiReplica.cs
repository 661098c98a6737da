namespace NoKv.Silo.Http.Api;

/// <summary>One replica of a shard, as its store reported it ("unknown" role when it did not answer).</summary>
public sealed record ApiReplica(
    int Store,
    ulong Peer,
    string Role,
    long Term,
    long CommitIndex,
    long AppliedIndex,
    long LastIndex,
    long FirstIndex,
    long SizeBytes,
    string? Error);
