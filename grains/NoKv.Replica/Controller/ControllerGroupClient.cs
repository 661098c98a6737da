using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Replica.Controller;

/// <summary>
/// Reads and compare-and-swaps rows of the controller group, following its leader. Every change to controller state
/// is a compare-and-swap against the row as last read, so two copies of the controller logic (a duplicate grain
/// activation, an old and a new leader's logic overlapping) can never both apply conflicting changes: the second
/// one fails, re-reads and decides again.
/// <para>Writes go through one client session, one at a time (a session has at most one write outstanding); a write
/// whose answer is lost is retried with the same sequence, so it applies at most once and its outcome is the
/// recorded one.</para>
/// <para>The group's members are not fixed (a controller replica can move): the client follows a leader hint to any
/// store, and after a whole round of its known members without an answer it asks them and every live store
/// (<see cref="IControllerTransport.LiveStores"/>) for their replica's committed descriptor and adopts the newest
/// (<see cref="ControllerMembership"/>); it also re-reads the leader's descriptor every
/// <see cref="MembershipRefreshMs"/> so the shared list (and a silo's persisted copy) stays current
/// (docs/controller.md, "Finding the controller group").</para>
/// Threading: one logical thread at a time; concurrent callers queue for the write slot.
/// </summary>
public sealed class ControllerGroupClient
{
    /// <summary>How often a client confirms the membership it holds with the leader's descriptor.</summary>
    public const long MembershipRefreshMs = 30_000;

    private readonly IControllerTransport _transport;
    private readonly ControllerMembership _membership;
    private readonly Guid _session;
    private readonly SemaphoreSlim _writeSlot = new(1, 1);
    private readonly Random _random;
    private long _sequence;
    private StoreId _leaderGuess;
    private long _refreshedAtMs;

    /// <param name="stores">Stores holding the controller group's voters as far as the caller knows (its bootstrap
    /// placement); the client follows the group from there.</param>
    /// <param name="seed">Seeds the session id and the backoff jitter (fixed in the simulator, random in a silo).</param>
    public ControllerGroupClient(IControllerTransport transport, IReadOnlyList<StoreId> stores, int seed, TimeSpan attemptTimeout, TimeSpan operationTimeout)
        : this(transport, new ControllerMembership(0, stores), seed, attemptTimeout, operationTimeout)
    {
    }

    /// <param name="membership">Where the group's voters are, shared with the process's other clients.</param>
    /// <param name="seed">Seeds the session id and the backoff jitter (fixed in the simulator, random in a silo).</param>
    public ControllerGroupClient(IControllerTransport transport, ControllerMembership membership, int seed, TimeSpan attemptTimeout, TimeSpan operationTimeout)
    {
        ArgumentNullException.ThrowIfNull(membership);
        _transport = transport;
        _membership = membership;
        _leaderGuess = membership.Stores[0];
        _random = new Random(seed);
        var session = new byte[16];
        _random.NextBytes(session);
        _session = new Guid(session);
        AttemptTimeout = attemptTimeout;
        OperationTimeout = operationTimeout;
        _refreshedAtMs = transport.NowMs;
    }

    /// <summary>How long one call to one replica may take before the next replica is tried.</summary>
    public TimeSpan AttemptTimeout { get; }

    /// <summary>How long a read or write keeps retrying before it fails with <see cref="NoKvTimeoutException"/>.</summary>
    public TimeSpan OperationTimeout { get; }

    /// <summary>The store that answered last as leader (or was hinted as one).</summary>
    public StoreId LeaderGuess => _leaderGuess;

    /// <summary>The group's members as this client (and the process's other clients) know them.</summary>
    public ControllerMembership Membership => _membership;

    public IControllerTransport Transport => _transport;

    /// <summary>A linearizable read of one row; null when the row is absent.</summary>
    /// <exception cref="NoKvTimeoutException">No leader answered within <see cref="OperationTimeout"/>.</exception>
    public async Task<byte[]?> ReadAsync(byte[] key, CancellationToken cancellationToken = default)
    {
        var request = new ReadRequest { Shard = SystemShards.Controller, Epoch = 1, Key = key, Consistency = ReadConsistency.Linearizable };
        var response = await CallLeaderAsync(
            "controller read", _transport.NowMs, (store, token) => _transport.ReadAsync(store, request, token), cancellationToken).ConfigureAwait(true);
        return response.Value;
    }

    /// <summary>Every row in [<paramref name="start"/>, <paramref name="end"/>), read linearizably page by page.</summary>
    /// <exception cref="NoKvTimeoutException">No leader answered within <see cref="OperationTimeout"/>.</exception>
    public async Task<List<KvEntry>> ScanAsync(byte[] start, byte[] end, CancellationToken cancellationToken = default)
    {
        var rows = new List<KvEntry>();
        var from = start;
        long started = _transport.NowMs;
        while (true)
        {
            var request = new ScanRequest { Shard = SystemShards.Controller, Epoch = 1, Start = from, End = end, Limit = 1024, Consistency = ReadConsistency.Linearizable };
            var response = await CallLeaderAsync(
                "controller scan", started, (store, token) => _transport.ScanAsync(store, request, token), cancellationToken).ConfigureAwait(true);
            rows.AddRange(response.Entries);
            if (!response.HasMore || response.Entries.Length == 0)
            {
                return rows;
            }

            // Continue after the last row: the smallest key above it is the key with a zero byte appended.
            from = [.. response.Entries[^1].Key, 0];
        }
    }

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/> (null deletes) if it currently holds
    /// <paramref name="expected"/> (null: absent). True if swapped, false if the row held something else.
    /// </summary>
    /// <exception cref="NoKvTimeoutException">No answer within <see cref="OperationTimeout"/>: the swap may or may not
    /// have applied, so the caller must re-read before deciding again.</exception>
    public async Task<bool> CompareAndSwapAsync(byte[] key, byte[]? expected, byte[]? value, CancellationToken cancellationToken = default)
    {
        await _writeSlot.WaitAsync(cancellationToken).ConfigureAwait(true);
        try
        {
            var request = new WriteRequest
            {
                Shard = SystemShards.Controller,
                Epoch = 1,
                Kind = WriteKind.CompareAndSwap,
                Key = key,
                Expected = expected,
                Value = value,
                Session = new ClientSession(_session, ++_sequence),
            };
            var response = await CallLeaderAsync(
                "controller write", _transport.NowMs, (store, token) => _transport.WriteAsync(store, request, token), cancellationToken).ConfigureAwait(true);
            return response.Succeeded;
        }
        finally
        {
            _writeSlot.Release();
        }
    }

    /// <summary><paramref name="count"/> timestamps from the oracle that the controller group's leader serves.</summary>
    /// <exception cref="NoKvTimeoutException">No leader served them within <see cref="OperationTimeout"/>.</exception>
    public async Task<TimestampBatch> TimestampsAsync(int count, CancellationToken cancellationToken = default)
    {
        var response = await CallLeaderAsync(
            "get timestamps", _transport.NowMs, (store, token) => _transport.TimestampsAsync(store, count, token), cancellationToken).ConfigureAwait(true);
        return response.Batch;
    }

    /// <summary>
    /// Calls the guessed leader until one answers Ok, following hints and rotating past silent replicas, until
    /// <see cref="OperationTimeout"/> after <paramref name="startedMs"/>.
    /// </summary>
    private async Task<TResponse> CallLeaderAsync<TResponse>(
        string operation, long startedMs, Func<StoreId, CancellationToken, Task<TResponse>> call, CancellationToken cancellationToken)
        where TResponse : IReplicaResponse
    {
        long deadline = startedMs + (long)OperationTimeout.TotalMilliseconds;
        int attempts = 0;
        int unanswered = 0;
        var last = NoKvErrorCode.Timeout;
        string? detail = null;
        if (_transport.NowMs - _refreshedAtMs >= MembershipRefreshMs)
        {
            await RefreshMembershipAsync(cancellationToken).ConfigureAwait(true);
        }

        while (true)
        {
            attempts++;
            bool hinted = false;
            try
            {
                using var attempt = AttemptToken(cancellationToken);
                var response = await call(LeaderGuess, attempt.Token).ConfigureAwait(true);
                if (response.Code == NoKvErrorCode.Ok)
                {
                    return response;
                }

                (last, detail) = (response.Code, response.Detail);
                if (!IsRetryable(response.Code))
                {
                    throw NoKvErrors.FromCode(response.Code, SystemShards.Controller, response.LeaderHint, response.CurrentEpoch, response.Detail);
                }

                hinted = Follow(response.Code, response.LeaderHint);
            }
            catch (Exception e) when (IsTransportFailure(e, cancellationToken))
            {
                (last, detail) = (NoKvErrorCode.StoreUnavailable, e.Message);
                Rotate();
            }

            if (_transport.NowMs >= deadline)
            {
                throw new NoKvTimeoutException(operation, TimeSpan.FromMilliseconds(_transport.NowMs - startedMs), attempts, last, detail);
            }

            // A whole round of the known members without a leader (all gone, or the group moved away from them):
            // look for the group's current members before the next round.
            if (!hinted && ++unanswered >= _membership.Stores.Length)
            {
                unanswered = 0;
                await DiscoverAsync(cancellationToken).ConfigureAwait(true);
            }

            await BackoffAsync(hinted, cancellationToken).ConfigureAwait(true);
        }
    }

    /// <summary>
    /// Asks the leader guess for its committed descriptor and adopts it if newer (failures ignored: the call that
    /// follows finds the group anyway). Keeps the shared membership current while the group is healthy.
    /// </summary>
    public async Task RefreshMembershipAsync(CancellationToken cancellationToken = default)
    {
        _refreshedAtMs = _transport.NowMs;
        try
        {
            using var attempt = AttemptToken(cancellationToken);
            var status = await _transport.StatusAsync(_leaderGuess, attempt.Token).ConfigureAwait(true);
            _membership.Adopt(status.Descriptor);
        }
        catch (Exception e) when (IsTransportFailure(e, cancellationToken))
        {
            // Next time.
        }
    }

    /// <summary>
    /// Asks the known members and every live store for their replica's committed descriptor at once, adopts the
    /// newest and goes to the leader the answers name (the answering leader of the highest term).
    /// </summary>
    public async Task DiscoverAsync(CancellationToken cancellationToken = default)
    {
        _refreshedAtMs = _transport.NowMs;
        var stores = new List<StoreId>(_membership.Stores);
        foreach (var store in _transport.LiveStores())
        {
            if (!stores.Contains(store))
            {
                stores.Add(store);
            }
        }

        using var attempt = AttemptToken(cancellationToken);
        var asks = new List<Task<ReplicaStatus>>(stores.Count);
        foreach (var store in stores)
        {
            try
            {
                asks.Add(_transport.StatusAsync(store, attempt.Token));
            }
            catch (Exception e) when (IsTransportFailure(e, cancellationToken))
            {
                // That store cannot be asked; the others may answer.
            }
        }

        ReplicaStatus? leader = null;
        foreach (var ask in asks)
        {
            try
            {
                var status = await ask.ConfigureAwait(true);
                _membership.Adopt(status.Descriptor);
                if (status.Role == ReplicaRole.Leader && status.Descriptor is not null && (leader is null || status.Term > leader.Term))
                {
                    leader = status;
                }
            }
            catch (Exception e) when (IsTransportFailure(e, cancellationToken))
            {
                // No answer from that store.
            }
        }

        if (leader is not null)
        {
            _leaderGuess = leader.Replica.Store;
        }
        else if (Array.IndexOf(_membership.Stores, _leaderGuess) < 0)
        {
            _leaderGuess = _membership.Stores[0];
        }
    }

    // WrongShard: the controller group never splits (its epoch stays 1), so it can only mean that store holds no
    // replica of the group (any more): ask the next one.
    private static bool IsRetryable(NoKvErrorCode code) =>
        code is NoKvErrorCode.NotLeader or NoKvErrorCode.StoreUnavailable or NoKvErrorCode.Timeout or NoKvErrorCode.ProposalDropped or NoKvErrorCode.WrongShard;

    // Anything a call to one replica throws (a dead silo, a cancelled attempt, a serialization failure on a lost
    // connection) means only "no answer from that replica", unless the caller itself gave up.
    private static bool IsTransportFailure(Exception e, CancellationToken caller) =>
        !caller.IsCancellationRequested && e is not NoKvException { Code: not (NoKvErrorCode.StoreUnavailable or NoKvErrorCode.Timeout) };

    private CancellationTokenSource AttemptToken(CancellationToken caller)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(caller);
        source.CancelAfter(AttemptTimeout);
        return source;
    }

    /// <summary>
    /// Moves to the hinted leader (true) or to the next replica (false). A hint may name a store outside the known
    /// members: it comes from a replica of the group, which knows a newer membership than this client.
    /// </summary>
    private bool Follow(NoKvErrorCode code, StoreId? hint)
    {
        if (code == NoKvErrorCode.NotLeader && hint is { } leader && leader.IsValid && leader != _leaderGuess)
        {
            _leaderGuess = leader;
            return true;
        }

        Rotate();
        return false;
    }

    private void Rotate()
    {
        var stores = _membership.Stores;
        _leaderGuess = stores[(Array.IndexOf(stores, _leaderGuess) + 1) % stores.Length];
    }

    private Task BackoffAsync(bool hinted, CancellationToken cancellationToken) =>
        // A hint is worth following at once; anything else (an election, a dead store) needs a moment.
        _transport.DelayAsync(hinted ? 1 : 10 + _random.Next(40), cancellationToken);
}
