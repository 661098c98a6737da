using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Replica.Controller;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The controller logic's view of the simulated group: calls go to the stores' cores as a client's would, time is
/// virtual, and each front-end's wall clock is skewed by its own fixed offset (the oracle must not depend on clocks).
/// </summary>
internal sealed class SimControllerTransport : IControllerTransport
{
    private readonly ReplicaSimulation _sim;
    private const int AttemptTimeoutMs = 2_000;
    private readonly long _skewMs;

    public SimControllerTransport(ReplicaSimulation sim, long skewMs)
    {
        _sim = sim;
        _skewMs = skewMs;
    }

    public long NowMs => _sim.Now;

    public long WallClockMs => 1_700_000_000_000 + _sim.Now + _skewMs;

    public Task<WriteResponse> WriteAsync(StoreId store, WriteRequest request, CancellationToken cancellationToken) =>
        WithinAttemptAsync(_sim.CallWriteAsync(store, request), () => new WriteResponse { Code = NoKvErrorCode.Timeout, CurrentEpoch = 0 });

    public Task<ReadResponse> ReadAsync(StoreId store, ReadRequest request, CancellationToken cancellationToken) =>
        WithinAttemptAsync(_sim.CallReadAsync(store, request), () => new ReadResponse { Code = NoKvErrorCode.Timeout, CurrentEpoch = 0 });

    public Task<ScanResponse> ScanAsync(StoreId store, ScanRequest request, CancellationToken cancellationToken) =>
        WithinAttemptAsync(_sim.CallScanAsync(store, request), () => new ScanResponse { Code = NoKvErrorCode.Timeout, CurrentEpoch = 0 });

    public Task<TimestampResponse> TimestampsAsync(StoreId store, int count, CancellationToken cancellationToken) =>
        WithinAttemptAsync(_sim.CallTimestampsAsync(store, count), () => new TimestampResponse { Code = NoKvErrorCode.Timeout, CurrentEpoch = 0 });

    public Task DelayAsync(int milliseconds, CancellationToken cancellationToken) => _sim.Delay(milliseconds);

    public Task<ReplicaStatus> StatusAsync(StoreId store, CancellationToken cancellationToken) =>
        WithinAttemptAsync<ReplicaStatus>(_sim.CallStatusAsync(store, SystemShards.Controller), () => throw new TimeoutException($"store {store} did not answer"));

    /// <summary>The stores that are up, as Orleans membership would list the live silos.</summary>
    public IReadOnlyCollection<StoreId> LiveStores() => _sim.Stores.Where(s => _sim.Node(s).IsUp).ToList();

    /// <summary>
    /// The production client gives up on a replica after its attempt timeout (a real-time timer the simulation
    /// cannot use), so the simulated one does it in virtual time: a caller stuck on a stopped store moves on to the
    /// next while the abandoned call may still be served later, as a request left in a socket would be.
    /// </summary>
    private async Task<T> WithinAttemptAsync<T>(Task<T> call, Func<T> timedOut)
    {
        var first = await _sim.FirstOfAsync(call, _sim.Delay(AttemptTimeoutMs));
        return first == call ? await call : timedOut();
    }
}
