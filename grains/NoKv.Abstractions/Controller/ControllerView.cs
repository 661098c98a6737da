using NoKv.Abstractions.Sharding;

namespace NoKv.Abstractions.Controller;

/// <summary>
/// The controller's view of the cluster for operators (<c>nokv cluster status</c>): the committed map, stores and
/// operations, plus the volatile load and leaders from heartbeats.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.ControllerView")]
public sealed record ControllerView(
    [property: Id(0)] StoreId? RaftLeader,
    [property: Id(1)] string? LogicSilo,
    [property: Id(2)] long MapVersion,
    [property: Id(3)] ShardDescriptor[] Shards,
    [property: Id(4)] ShardLoad[] Loads,
    [property: Id(5)] StoreView[] Stores,
    [property: Id(6)] OperationView[] Operations,
    [property: Id(7)] long TimestampHighWater,
    [property: Id(8)] StoreId[] GroupStores,
    [property: Id(9)] BalancerView? Balancer = null);
