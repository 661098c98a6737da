using NoKv.Abstractions.Status;

namespace NoKv.Abstractions.Telemetry;

/// <summary>One replica a store hosts: its Raft status, the size of its shard's data here, and its traffic so far.</summary>
[GenerateSerializer, Immutable, Alias("nokv.HostedReplicaReport")]
public sealed class HostedReplicaReport
{
    /// <summary>Null when the replica did not answer in time (then <see cref="Error"/> says why).</summary>
    [Id(0)] public ReplicaStatus? Status { get; init; }

    [Id(1)] public string? Error { get; init; }

    /// <summary>Approximate bytes of the shard's data in this store's engine tables (memtables not counted).</summary>
    [Id(2)] public long ApproximateBytes { get; init; }

    /// <summary>Writes this replica answered Ok (as leader) since it was activated.</summary>
    [Id(3)] public long Writes { get; init; }

    /// <summary>Reads (gets and scans) this replica answered Ok since it was activated.</summary>
    [Id(4)] public long Reads { get; init; }

    /// <summary>Key and value bytes of those writes.</summary>
    [Id(5)] public long WriteBytes { get; init; }

    [Id(6)] public long Shard { get; init; }

    /// <summary>Approximate keys of the shard in this store's engine tables (entry counts; memtables not counted).</summary>
    [Id(7)] public long ApproximateKeys { get; init; }
}
