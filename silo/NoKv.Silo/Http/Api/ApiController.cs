namespace NoKv.Silo.Http.Api;

/// <summary>
/// The controller group (a system Raft group, shard 0) when the cluster runs one: its leader and Raft state, its
/// replicas, and the operations in progress and hot keys it reports (empty lists until it reports them).
/// </summary>
public sealed record ApiController(
    int? Leader,
    long Term,
    long CommitIndex,
    IReadOnlyList<ApiReplica> Replicas,
    IReadOnlyList<string> Operations,
    IReadOnlyList<ApiHotKey> HotKeys);
