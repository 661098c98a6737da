using Microsoft.Extensions.Options;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Grains.Placement;
using NoKv.Replica.Controller;
using Orleans.Concurrency;

namespace NoKv.Grains.Controller;

/// <summary>
/// One timestamp front-end per silo (<see cref="TimestampOracle"/>): callers reach the silo they are connected to,
/// and the front-end coalesces them into one call to the controller group's leader, which serves timestamps from
/// memory under its lease. It survives the loss of any silo as long as the controller group has a quorum.
/// Reentrant so that requests arriving during a call queue for the next round instead of waiting behind it.
/// </summary>
[StatelessWorker(1)]
[Reentrant]
public sealed class TimestampOracleGrain : Grain, ITimestampOracleGrain
{
    private readonly TimestampOracle _oracle;

    public TimestampOracleGrain(IGrainFactory grains, ControllerMembershipFile membership, StoreDirectory stores, IOptions<NoKvControllerOptions> options)
    {
        var o = options.Value;
        var group = new ControllerGroupClient(new GrainControllerTransport(grains, stores.ActiveStores), membership.Membership, Random.Shared.Next(), o.AttemptTimeout, o.OperationTimeout);
        _oracle = new TimestampOracle(group);
    }

    public Task<TimestampBatch> GetTimestampsAsync(int count) => _oracle.GetTimestampsAsync(count);
}
