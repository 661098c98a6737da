using Microsoft.Extensions.Options;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Grains.Layout;
using NoKv.Replica.Controller;
using Orleans.Concurrency;

namespace NoKv.Grains.Controller;

/// <summary>
/// One timestamp oracle per silo (<see cref="TimestampOracle"/> decides everything): callers reach the silo they are
/// connected to, and the oracle survives the loss of any silo as long as the controller group has a quorum. Several
/// oracles are safe together because each range is a compare-and-swap on the persisted high-water mark.
/// Reentrant so that requests arriving during a commit queue for the next round instead of waiting behind it.
/// </summary>
[StatelessWorker(1)]
[Reentrant]
public sealed class TimestampOracleGrain : Grain, ITimestampOracleGrain
{
    private readonly TimestampOracle _oracle;

    public TimestampOracleGrain(IGrainFactory grains, ClusterLayout layout, IOptions<NoKvControllerOptions> options)
    {
        var o = options.Value;
        var group = new ControllerGroupClient(new GrainControllerTransport(grains), layout.ControllerBootstrap.Replicas, Random.Shared.Next(), o.AttemptTimeout, o.OperationTimeout);
        _oracle = new TimestampOracle(group);
    }

    public Task<TimestampBatch> GetTimestampsAsync(int count) => _oracle.GetTimestampsAsync(count);
}
