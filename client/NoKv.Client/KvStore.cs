using Microsoft.Extensions.Options;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;
using NoKv.Client.Sessions;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime;

namespace NoKv.Client;

/// <summary>
/// <see cref="IKvStore"/> over Orleans grain calls: validates input, routes by the cached shard map to the
/// shard leader (straight to its silo's store service when a direct route is known, see <see cref="StoreRoutes"/>),
/// and retries retryable failures with backoff until the operation deadline. Thread-safe.
/// Split by concern into partial files: this one holds the retry loop, the others the operations.
/// </summary>
internal sealed partial class KvStore : IKvStore
{
    private readonly ShardRouter _router;
    private readonly SessionPool _sessions = new();
    private readonly NoKvClientOptions _options;
    private readonly KvLimits _limits;
    private readonly TimeProvider _time;

    private const long NeverRefused = long.MinValue;

    // When a leader last refused a primary in one phase (a TimeProvider timestamp).
    private long _onePhasePrimaryRefusedAt = NeverRefused;
    private readonly IServiceProvider? _services;
    private readonly WriteCoalescer? _coalescer;
    private readonly Transactions.SecondaryCommitBatcher? _secondaryCommits;

    public KvStore(IGrainFactory grains, IOptions<NoKvClientOptions> options, IServiceProvider services)
        : this(CreateRouter(grains, options.Value, services, TimeProvider.System), options.Value, TimeProvider.System)
    {
        _services = services;
    }

    /// <summary>Over a given router and clock; tests build one over fake grains.</summary>
    internal KvStore(ShardRouter router, NoKvClientOptions options, TimeProvider time)
    {
        _router = router;
        _options = options;
        _time = time;
        _limits = new KvLimits(_options.MaxKeyBytes, _options.MaxValueBytes);
        _coalescer = options.WriteBatching ? new WriteCoalescer(options.MaxWritesPerBatch, options.MaxWriteCallsInFlight, options.AttemptTimeout) : null;
        _secondaryCommits = options.BatchSecondaryCommits ? new Transactions.SecondaryCommitBatcher(this) : null;
    }

    /// <summary>Batches concurrent plain writes per replica (see <see cref="NoKvClientOptions.WriteBatching"/>); null when off.</summary>
    internal WriteCoalescer? Coalescer => _coalescer;

    internal ShardRouter Router => _router;

    internal KvLimits Limits => _limits;

    internal int ScanPageSize => _options.ScanPageSize;

    internal TimeSpan LockTtl => _options.TransactionLockTtl;

    internal bool CommitSecondariesInBackground => _options.CommitSecondariesInBackground;

    /// <summary>
    /// Whether transactions commit their primary's shard in one phase: on in the options, and no leader refused it
    /// within <see cref="OnePhasePrimaryRetryAfter"/> (a leader of an older build, or a cluster whose rolling upgrade
    /// has not reached every store: docs/format-commands.md, "Gate"). Each refusal costs a call, so after one the
    /// client commits in the classic order for a while rather than asking every time.
    /// </summary>
    internal bool CommitPrimaryInOnePhase =>
        _options.CommitPrimaryInOnePhase && (Volatile.Read(ref _onePhasePrimaryRefusedAt) is var at && (at == NeverRefused || _time.GetElapsedTime(at) >= OnePhasePrimaryRetryAfter));

    internal static TimeSpan OnePhasePrimaryRetryAfter { get; } = TimeSpan.FromSeconds(5);

    internal void NoteOnePhasePrimaryRefused() => Volatile.Write(ref _onePhasePrimaryRefusedAt, _time.GetTimestamp());

    /// <summary>Batches secondary commits per shard (see <see cref="NoKvClientOptions.BatchSecondaryCommits"/>); null when off.</summary>
    internal Transactions.SecondaryCommitBatcher? SecondaryCommits => _secondaryCommits;

    /// <summary>
    /// The router of a client: a suspect store gets one probe per attempt timeout (at most about one in flight),
    /// and a shard map fetch waits no longer than one attempt.
    /// </summary>
    internal static ShardRouter CreateRouter(IGrainFactory grains, NoKvClientOptions options, IServiceProvider services, TimeProvider time)
    {
        // Direct routes need the client's gateway list; inside a silo (which has no gateway list of its own and
        // reaches every silo directly anyway) the plain grain call is already at most one hop.
        var gateways = options.DirectRouting && services.GetService(typeof(ILocalSiloDetails)) is null
            ? services.GetService(typeof(IGatewayListProvider)) as IGatewayListProvider
            : null;
        var refresh = (services.GetService(typeof(IOptions<GatewayOptions>)) as IOptions<GatewayOptions>)?.Value.GatewayListRefreshPeriod
            ?? new GatewayOptions().GatewayListRefreshPeriod;
        return new ShardRouter(
            grains,
            new StoreRoutes(grains, gateways, refresh, time),
            new StoreHealth(time, options.AttemptTimeout),
            options.AttemptTimeout,
            time);
    }

    /// <summary>
    /// Runs <paramref name="call"/> against the replica of the shard owning <paramref name="routingKey"/>
    /// until it returns Ok, a final error, or the deadline passes. <paramref name="leaderOnly"/> false lets
    /// any replica answer (bounded-staleness reads). The call is a static lambda taking its state explicitly
    /// so no closure is allocated per operation.
    /// <para>Each attempt waits at most <see cref="NoKvClientOptions.AttemptTimeout"/>. A store that does not
    /// answer becomes suspect (see <see cref="StoreHealth"/>) and the next attempt, at once, goes to another
    /// replica; a NotLeader hint naming a store that is not suspect is followed on the next attempt, at once for
    /// the first <see cref="RetryState.ImmediateRedirects"/>; every other retryable failure backs off first.</para>
    /// </summary>
    private async Task<TResponse> ExecuteAsync<TState, TResponse>(
        RetryState retry,
        ReadOnlyMemory<byte> routingKey,
        bool leaderOnly,
        TState state,
        Func<ReplicaEndpoint, ShardDescriptor, TState, CancellationToken, Task<TResponse>> call)
        where TResponse : class, IReplicaResponse
    {
        while (true)
        {
            if (retry.Token.IsCancellationRequested)
            {
                throw retry.Expired();
            }

            ShardMap map;
            try
            {
                map = await _router.GetMapAsync(retry.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (retry.Token.IsCancellationRequested)
            {
                throw retry.Expired();
            }
            catch (Exception e) when (e is not NoKvException { IsRetryable: false })
            {
                retry.Fail(NoKvErrorCode.StoreUnavailable, $"shard map unavailable: {e.GetType().Name}: {e.Message}");
                await retry.BackoffAsync().ConfigureAwait(false);
                continue;
            }

            var shard = map.FindShard(routingKey.Span);
            var store = _router.ChooseReplica(shard, retry.Attempts, retry.LastStore, leaderOnly, retry.Spread);
            var endpoint = _router.Endpoint(shard.Id, store);
            retry.BeginAttempt(store);
            TResponse response;
            using (var attempt = new CancellationTokenSource(_options.AttemptTimeout, _time))
            using (retry.Token.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), attempt))
            {
                try
                {
                    response = await call(endpoint, shard, state, attempt.Token)
                        .WaitAsync(attempt.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!retry.Token.IsCancellationRequested && attempt.IsCancellationRequested)
                {
                    // The whole attempt timeout passed: waiting longer on this store only delays the retry elsewhere.
                    _router.NoAnswer(shard.Id, endpoint);
                    retry.Fail(NoKvErrorCode.Timeout, $"store {store} did not answer within {_options.AttemptTimeout.TotalMilliseconds:F0} ms");
                    continue;
                }
                catch (OperationCanceledException) when (retry.Token.IsCancellationRequested)
                {
                    throw retry.Expired();
                }
                catch (NoKvException e) when (e.IsRetryable)
                {
                    if (e is StoreUnavailableException && endpoint.Service is null)
                    {
                        // From the placement of a plain call: no live silo hosts the store.
                        _router.NoAnswer(shard.Id, endpoint);
                    }
                    else
                    {
                        _router.ForgetLeader(shard.Id, store);
                        if (e.Code == NoKvErrorCode.StoreUnavailable)
                        {
                            // What a store service says when it hosts another store than the route claimed: the
                            // route is stale, the store itself may be fine.
                            _router.ForgetRoute(endpoint, quarantine: false);
                        }
                    }

                    retry.Fail(e.Code, e.Message);
                    await retry.BackoffAsync().ConfigureAwait(false);
                    continue;
                }
                catch (NoKvException e)
                {
                    retry.Failed(e.Code);
                    throw;
                }
                catch (Exception e)
                {
                    // Silo down, connection reset, message rejected, response timeout: all mean "try elsewhere",
                    // and not through this route until discovery confirms it again.
                    _router.NoAnswer(shard.Id, endpoint);
                    retry.Fail(NoKvErrorCode.StoreUnavailable, $"store {store}: {e.GetType().Name}: {e.Message}");
                    await retry.BackoffAsync().ConfigureAwait(false);
                    continue;
                }
            }

            _router.Answered(endpoint);
            switch (response.Code)
            {
                case NoKvErrorCode.Ok:
                    if (leaderOnly)
                    {
                        _router.NoteLeader(shard.Id, store);
                    }

                    retry.Succeeded();
                    return response;
                case NoKvErrorCode.NotLeader:
                    retry.Fail(response.Code, $"store {store} is not the leader of shard {shard.Id}");
                    if (response.LeaderHint is { } hint && hint != store && shard.HasReplicaOn(hint))
                    {
                        // The next attempt goes to the hint (ChooseReplica takes the cached leader first). A hint
                        // naming a suspect store is most likely stale (the followers have not noticed yet that
                        // their leader stopped): wait, and ask another replica unless its probe is due.
                        _router.NoteLeader(shard.Id, hint);
                        if (!_router.Health.IsSuspect(hint) && retry.TakeImmediateRedirect())
                        {
                            continue;
                        }
                    }
                    else if (response.LeaderHint is { } elsewhere && elsewhere != store && _router.TryLearnReplicas(shard, response.CurrentShards, elsewhere))
                    {
                        // The leader is on a store this map did not list, and the answer carried the replica set that
                        // lists it (a move or re-replication the controller's map has not caught up with): go there
                        // now rather than to the other old replicas or the controller.
                        _router.ForgetLeader(shard.Id, store);
                        _router.NoteLeader(shard.Id, elsewhere);
                        if (!_router.Health.IsSuspect(elsewhere) && retry.TakeImmediateRedirect())
                        {
                            continue;
                        }
                    }
                    else
                    {
                        _router.ForgetLeader(shard.Id, store);
                        if (response.LeaderHint is { } moved && !shard.HasReplicaOn(moved))
                        {
                            // The leader is on a store this map does not list: the replica set changed (a move or a
                            // re-replication); the controller's map has it, or will within a step.
                            try
                            {
                                await _router.RefreshAsync(map, retry.Token).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException) when (retry.Token.IsCancellationRequested)
                            {
                                throw retry.Expired();
                            }
                            catch (Exception e) when (e is not NoKvException { IsRetryable: false })
                            {
                                retry.Fail(NoKvErrorCode.StoreUnavailable, $"shard map unavailable: {e.GetType().Name}: {e.Message}");
                            }
                        }
                    }

                    await retry.BackoffAsync().ConfigureAwait(false);
                    continue;
                case NoKvErrorCode.KeyLocked or NoKvErrorCode.WriteConflict or NoKvErrorCode.TxnAborted when response is Abstractions.Transactions.TxnResponse:
                    // Transactional answers: the transaction decides (resolve and retry, or abort).
                    return response;
                case NoKvErrorCode.KeyLocked when response is ILockedResponse { Lock: { } held }:
                    // A plain operation met a transaction's lock: learn the transaction's outcome from its primary,
                    // apply it here, and try again (same session sequence for a write); wait while it is live.
                    retry.Fail(response.Code, $"key {KeyFormatter.Format(held.Key)} is locked by transaction {held.StartTs}");
                    bool resolved;
                    try
                    {
                        resolved = await ResolveLockAsync(held, retry.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (retry.Token.IsCancellationRequested)
                    {
                        throw retry.Expired();
                    }
                    catch (NoKvTimeoutException) when (retry.Token.IsCancellationRequested)
                    {
                        throw retry.Expired();
                    }

                    if (!resolved)
                    {
                        await retry.BackoffAsync().ConfigureAwait(false);
                    }

                    continue;
                case NoKvErrorCode.WrongShard:
                    retry.Fail(response.Code, response.Detail);
                    if (_router.TryLearn(shard, response.CurrentShards))
                    {
                        // The replica named where the keys went (a split not yet in the controller's map): route
                        // again at once, without waiting for the map.
                        continue;
                    }

                    try
                    {
                        if ((await _router.RefreshAsync(map, retry.Token).ConfigureAwait(false)).Version > map.Version)
                        {
                            // The map moved on (a split or merge committed): route again at once, no backoff.
                            continue;
                        }
                    }
                    catch (OperationCanceledException) when (retry.Token.IsCancellationRequested)
                    {
                        throw retry.Expired();
                    }
                    catch (Exception e) when (e is not NoKvException { IsRetryable: false })
                    {
                        retry.Fail(NoKvErrorCode.StoreUnavailable, $"shard map unavailable: {e.GetType().Name}: {e.Message}");
                    }

                    await retry.BackoffAsync().ConfigureAwait(false);
                    continue;
                default:
                    if (NoKvErrorCodes.IsRetryable(response.Code))
                    {
                        retry.Fail(response.Code, response.Detail);
                        await retry.BackoffAsync().ConfigureAwait(false);
                        continue;
                    }

                    retry.Failed(response.Code);
                    throw NoKvErrors.FromCode(response.Code, shard.Id, response.LeaderHint, response.CurrentEpoch, response.Detail);
            }
        }
    }

    private RetryState NewRetry(string operation, CancellationToken cancellationToken) =>
        new(operation, _options, cancellationToken, _time, Random.Shared);

    private static void ThrowIfInvalid(NoKvException? error)
    {
        if (error is not null)
        {
            throw error;
        }
    }
}
