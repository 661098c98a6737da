using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The controller logic's view of the simulated group: calls go to the stores' cores as a client's would, time is
/// virtual, and each front-end's wall clock is skewed by its own fixed offset (the oracle must not depend on clocks).
/// </summary>
internal sealed class SimControllerTransport : IControllerTransport
{
    private readonly ReplicaSimulation _sim;
    private readonly long _skewMs;

    public SimControllerTransport(ReplicaSimulation sim, long skewMs)
    {
        _sim = sim;
        _skewMs = skewMs;
    }

    public long NowMs => _sim.Now;

    public long WallClockMs => 1_700_000_000_000 + _sim.Now + _skewMs;

    public Task<WriteResponse> WriteAsync(StoreId store, WriteRequest request, CancellationToken cancellationToken) => _sim.CallWriteAsync(store, request);

    public Task<ReadResponse> ReadAsync(StoreId store, ReadRequest request, CancellationToken cancellationToken) => _sim.CallReadAsync(store, request);

    public Task<ScanResponse> ScanAsync(StoreId store, ScanRequest request, CancellationToken cancellationToken) => _sim.CallScanAsync(store, request);

    public Task<TimestampResponse> TimestampsAsync(StoreId store, int count, CancellationToken cancellationToken) => _sim.CallTimestampsAsync(store, count);

    public Task DelayAsync(int milliseconds, CancellationToken cancellationToken) => _sim.Delay(milliseconds);
}
