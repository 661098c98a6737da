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

    public KvStore(IGrainFactory grains, IOptions<NoKvClientOptions> options, IServiceProvider services)
    {
        _options = options.Value;
        _limits = new KvLimits(_options.MaxKeyBytes, _options.MaxValueBytes);

        // Direct routes need the client's gateway list; inside a silo (which has no gateway list of its own and
        // reaches every silo directly anyway) the plain grain call is already at most one hop.
        var gateways = _options.DirectRouting && services.GetService(typeof(ILocalSiloDetails)) is null
            ? services.GetService(typeof(IGatewayListProvider)) as IGatewayListProvider
            : null;
        var refresh = (services.GetService(typeof(IOptions<GatewayOptions>)) as IOptions<GatewayOptions>)?.Value.GatewayListRefreshPeriod
            ?? new GatewayOptions().GatewayListRefreshPeriod;
        _router = new ShardRouter(grains, new StoreRoutes(grains, gateways, refresh));
    }

    internal ShardRouter Router => _router;

    /// <summary>
    /// Runs <paramref name="call"/> against the replica of the shard owning <paramref name="routingKey"/>
    /// until it returns Ok, a final error, or the deadline passes. <paramref name="leaderOnly"/> false lets
    /// any replica answer (bounded-staleness reads). The call is a static lambda taking its state explicitly
    /// so no closure is allocated per operation.
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
            catch (OperationCanceledException)
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
            var store = _router.ChooseReplica(shard, retry.Attempts, leaderOnly);
            var endpoint = _router.Endpoint(shard.Id, store);
            retry.BeginAttempt();
            TResponse response;
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(retry.Token))
            {
                attempt.CancelAfter(_options.AttemptTimeout);
                try
                {
                    response = await call(endpoint, shard, state, attempt.Token)
                        .WaitAsync(attempt.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!retry.Token.IsCancellationRequested)
                {
                    _router.ForgetLeader(shard.Id, store);
                    _router.ForgetRoute(endpoint, quarantine: true);
                    retry.Fail(NoKvErrorCode.Timeout, $"store {store} did not answer within {_options.AttemptTimeout.TotalMilliseconds:F0} ms");
                    continue;
                }
                catch (OperationCanceledException)
                {
                    throw retry.Expired();
                }
                catch (NoKvException e) when (e.IsRetryable)
                {
                    _router.ForgetLeader(shard.Id, store);
                    if (e.Code == NoKvErrorCode.StoreUnavailable)
                    {
                        // Also what a store service says when it hosts another store than the route claimed.
                        _router.ForgetRoute(endpoint, quarantine: false);
                    }

                    retry.Fail(e.Code, e.Message);
                    await retry.BackoffAsync().ConfigureAwait(false);
                    continue;
                }
                catch (NoKvException)
                {
                    throw;
                }
                catch (Exception e)
                {
                    // Silo down, connection reset, message rejected, response timeout: all mean "try elsewhere",
                    // and not through this route until discovery confirms it again.
                    _router.ForgetLeader(shard.Id, store);
                    _router.ForgetRoute(endpoint, quarantine: true);
                    retry.Fail(NoKvErrorCode.StoreUnavailable, $"store {store}: {e.GetType().Name}: {e.Message}");
                    await retry.BackoffAsync().ConfigureAwait(false);
                    continue;
                }
            }

            switch (response.Code)
            {
                case NoKvErrorCode.Ok:
                    if (leaderOnly)
                    {
                        _router.NoteLeader(shard.Id, store);
                    }

                    return response;
                case NoKvErrorCode.NotLeader:
                    retry.Fail(response.Code, $"store {store} is not the leader of shard {shard.Id}");
                    if (response.LeaderHint is { } hint && hint != store && shard.HasReplicaOn(hint))
                    {
                        // A fresh hint is worth one immediate retry; repeated bouncing backs off below.
                        _router.NoteLeader(shard.Id, hint);
                        if (retry.Attempts % 3 != 0)
                        {
                            continue;
                        }
                    }
                    else
                    {
                        _router.ForgetLeader(shard.Id, store);
                    }

                    await retry.BackoffAsync().ConfigureAwait(false);
                    continue;
                case NoKvErrorCode.WrongShard:
                    retry.Fail(response.Code, response.Detail);
                    try
                    {
                        await _router.RefreshAsync(map, retry.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        throw retry.Expired();
                    }
                    catch (Exception e) when (e is not NoKvException { IsRetryable: false })
                    {
                        retry.Fail(NoKvErrorCode.StoreUnavailable, $"shard map unavailable: {e.Message}");
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

                    throw NoKvErrors.FromCode(response.Code, shard.Id, response.LeaderHint, response.CurrentEpoch, response.Detail);
            }
        }
    }

    private static void ThrowIfInvalid(NoKvException? error)
    {
        if (error is not null)
        {
            throw error;
        }
    }
}
