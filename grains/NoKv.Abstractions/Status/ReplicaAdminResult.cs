namespace NoKv.Abstractions.Status;

/// <summary>The answer to a replica administration call (<see cref="Grains.IShardReplicaGrain.CreateReplicaAsync"/>, destroy).</summary>
[GenerateSerializer, Immutable, Alias("nokv.ReplicaAdminResult")]
public sealed record ReplicaAdminResult(
    [property: Id(0)] ReplicaAdminOutcome Outcome,
    [property: Id(1)] string? Detail = null);
