namespace NoKv.Silo.Http.Api;

/// <summary>
/// The controller group (a system Raft group, shard 0) when the cluster runs one: its leader and Raft state, its
/// replicas, the operations in progress (from the controller's view; empty when the controller did not answer, see
/// <see cref="OperationsError"/>), and the cluster's hot keys (summed over the stores' reports).
/// </summary>
public sealed record ApiController(
    int? Leader,
    long Term,
    long CommitIndex,
    IReadOnlyList<ApiReplica> Replicas,
    IReadOnlyList<ApiOperation> Operations,
    IReadOnlyList<ApiHotKey> HotKeys,
    string? OperationsError = null);
