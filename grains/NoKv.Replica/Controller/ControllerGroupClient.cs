using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller;

/// <summary>
/// Reads and compare-and-swaps rows of the controller group, following its leader. Every change to controller state
/// is a compare-and-swap against the row as last read, so two copies of the controller logic (a duplicate grain
/// activation, an old and a new leader's logic overlapping) can never both apply conflicting changes: the second
/// one fails, re-reads and decides again.
/// <para>Writes go through one client session, one at a time (a session has at most one write outstanding); a write
/// whose answer is lost is retried with the same sequence, so it applies at most once and its outcome is the
/// recorded one.</para>
/// Threading: one logical thread at a time; concurrent callers queue for the write slot.
/// </summary>
public sealed class ControllerGroupClient
{
    private readonly IControllerTransport _transport;
    private readonly StoreId[] _stores;
    private readonly Guid _session;
    private readonly SemaphoreSlim _writeSlot = new(1, 1);
    private readonly Random _random;
    private long _sequence;
    private int _leaderGuess;

    /// <param name="stores">Stores holding the controller group's voters (its bootstrap placement).</param>
    /// <param name="seed">Seeds the session id and the backoff jitter (fixed in the simulator, random in a silo).</param>
    public ControllerGroupClient(IControllerTransport transport, IReadOnlyList<StoreId> stores, int seed, TimeSpan attemptTimeout, TimeSpan operationTimeout)
    {
        if (stores.Count == 0)
        {
            throw new ArgumentException("The controller group needs at least one store.", nameof(stores));
        }

        _transport = transport;
        _stores = stores.ToArray();
        _random = new Random(seed);
        var session = new byte[16];
        _random.NextBytes(session);
        _session = new Guid(session);
        AttemptTimeout = attemptTimeout;
        OperationTimeout = operationTimeout;
    }

    /// <summary>How long one call to one replica may take before the next replica is tried.</summary>
    public TimeSpan AttemptTimeout { get; }

    /// <summary>How long a read or write keeps retrying before it fails with <see cref="NoKvTimeoutException"/>.</summary>
    public TimeSpan OperationTimeout { get; }

    /// <summary>The store that answered last as leader (or was hinted as one).</summary>
    public StoreId LeaderGuess => _stores[_leaderGuess];

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
        var last = NoKvErrorCode.Timeout;
        string? detail = null;
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

            await BackoffAsync(hinted, cancellationToken).ConfigureAwait(true);
        }
    }

    private static bool IsRetryable(NoKvErrorCode code) =>
        code is NoKvErrorCode.NotLeader or NoKvErrorCode.StoreUnavailable or NoKvErrorCode.Timeout or NoKvErrorCode.ProposalDropped;

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

    /// <summary>Moves to the hinted leader (true) or to the next replica (false).</summary>
    private bool Follow(NoKvErrorCode code, StoreId? hint)
    {
        if (code == NoKvErrorCode.NotLeader && hint is { } leader && Array.IndexOf(_stores, leader) is >= 0 and var at && at != _leaderGuess)
        {
            _leaderGuess = at;
            return true;
        }

        Rotate();
        return false;
    }

    private void Rotate() => _leaderGuess = (_leaderGuess + 1) % _stores.Length;

    private Task BackoffAsync(bool hinted, CancellationToken cancellationToken) =>
        // A hint is worth following at once; anything else (an election, a dead store) needs a moment.
        _transport.DelayAsync(hinted ? 1 : 10 + _random.Next(40), cancellationToken);
}
