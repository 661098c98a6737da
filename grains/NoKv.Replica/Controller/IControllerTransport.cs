using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Replica.Controller;

/// <summary>
/// How controller logic reaches the replicas of the controller group: grain calls in a silo, the simulated network
/// in the replica simulator. Implementations answer transport failures (a dead silo, a lost call) by throwing;
/// <see cref="ControllerGroupClient"/> treats every exception as "no answer" and retries elsewhere.
/// Threading: called from one logical thread at a time (a grain's turns, the simulator's loop).
/// </summary>
public interface IControllerTransport
{
    /// <summary>Monotonic milliseconds, for deadlines and backoff.</summary>
    long NowMs { get; }

    /// <summary>Wall-clock Unix milliseconds (timestamps' physical part, heartbeat times).</summary>
    long WallClockMs { get; }

    Task<WriteResponse> WriteAsync(StoreId store, WriteRequest request, CancellationToken cancellationToken);

    Task<ReadResponse> ReadAsync(StoreId store, ReadRequest request, CancellationToken cancellationToken);

    Task<ScanResponse> ScanAsync(StoreId store, ScanRequest request, CancellationToken cancellationToken);

    Task<TimestampResponse> TimestampsAsync(StoreId store, int count, CancellationToken cancellationToken);

    Task DelayAsync(int milliseconds, CancellationToken cancellationToken);

    /// <summary>
    /// The status of <paramref name="store"/>'s replica of the controller group: its committed descriptor (the
    /// group's membership as that replica applied it) and the leader it knows. Peer id 0 and no descriptor: the store
    /// holds none.
    /// </summary>
    Task<ReplicaStatus> StatusAsync(StoreId store, CancellationToken cancellationToken);

    /// <summary>
    /// Stores believed up right now (in a silo: the stores of the active silos in Orleans membership), asked for the
    /// group's membership when none of the known members answers: the group's current voters are among them whenever
    /// it has a quorum.
    /// </summary>
    IReadOnlyCollection<StoreId> LiveStores();
}
