using NoKv.Abstractions.Sharding;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>A request that reached a frozen store and was held: the replica it was addressed to and what it was.</summary>
public sealed record HeldRequest(ReplicaId Replica, string Kind)
{
    /// <summary>True for a request to a system group's replica (the controller's), sent by silos, not by clients.</summary>
    public bool ToSystemGroup => Replica.Shard == SystemShards.Controller;

    public override string ToString() => $"{Replica} {Kind}";
}
