using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;

namespace NoKv.Client.Transactions;

/// <summary>
/// The client side of the protocol in docs/transactions.md: snapshot reads at the start timestamp (resolving locks
/// they meet), buffered writes, and at commit either one one-phase command (every key in one shard) or two-phase
/// commit: prewrite every shard's writes (locks, primary = first key), take a commit timestamp, validate the reads,
/// commit the primary (the commit point), then the other shards.
/// </summary>
internal sealed class Transaction : ITransaction
{
    private readonly KvStore _store;
    private readonly SortedDictionary<byte[], byte[]?> _writes = new(ByteArrayOrder.Instance);
    private readonly SortedSet<byte[]> _reads = new(ByteArrayOrder.Instance);
    private readonly List<TxnKeyRange> _ranges = new();
    private State _state = State.Active;
    private byte[]? _primary;
    private List<byte[]>? _prewritten;
    private OwnLocks? _ownLocks;
    private Task? _settleAfter;

    public Transaction(KvStore store, long startTs)
    {
        _store = store;
        StartTimestamp = startTs;
    }

    private enum State
    {
        Active,
        Committing,
        Committed,
        RolledBack,
    }

    public long StartTimestamp { get; }

    public long CommitTimestamp { get; private set; }

    public async Task<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        ThrowIfNotActive();
        Check(_store.Limits.CheckKey(key.Span));
        var k = key.ToArray();
        if (_writes.TryGetValue(k, out var own))
        {
            return own;
        }

        var response = await ReadAsync("TxnGet", k, shard => new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.Get, StartTs = StartTimestamp, Key = k }, cancellationToken).ConfigureAwait(false);
        _reads.Add(k);
        return response.Value;
    }

    public async Task<IReadOnlyList<byte[]?>> GetManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ThrowIfNotActive();
        var values = new byte[]?[keys.Count];
        var asked = new byte[keys.Count][];
        for (int i = 0; i < keys.Count; i++)
        {
            // Every key is checked before anything is sent: a bad key fails the whole call and reads nothing.
            Check(_store.Limits.CheckKey(keys[i].Span));
            asked[i] = keys[i].ToArray();
        }

        var remote = new List<int>(asked.Length);
        for (int i = 0; i < asked.Length; i++)
        {
            if (_writes.TryGetValue(asked[i], out var own))
            {
                values[i] = own;
            }
            else
            {
                remote.Add(i);
            }
        }

        // One request per shard for all of its keys: a message per shard instead of one per key.
        await ForEachShardAsync(remote, i => asked[i], async (group, ct) =>
        {
            if (group.Count == 1)
            {
                var k = asked[group[0]];
                values[group[0]] = (await ReadAsync("TxnGet", k, shard => new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.Get, StartTs = StartTimestamp, Key = k }, ct).ConfigureAwait(false)).Value;
                return;
            }

            var keys = group.ConvertAll(i => asked[i]).ToArray();
            while (true)
            {
                var response = await _store.TxnCallAsync("TxnGetMany", keys, shard => new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.GetMany, StartTs = StartTimestamp, Keys = keys }, ct).ConfigureAwait(false);
                switch (response.Code)
                {
                    case NoKvErrorCode.Ok when response.Values is { } read && read.Length == keys.Length:
                        for (int j = 0; j < group.Count; j++)
                        {
                            values[group[j]] = read[j];
                        }

                        return;
                    case NoKvErrorCode.Ok:
                        throw new InvalidOperationException($"Transaction {StartTimestamp}: a multi-key read of {keys.Length} keys got {response.Values?.Length ?? 0} values.");
                    case NoKvErrorCode.KeyLocked when response.Lock is { } held:
                        await ResolveOrWaitAsync(held, ct).ConfigureAwait(false);
                        continue;
                    default:
                        throw Failure(response);
                }
            }
        }, cancellationToken).ConfigureAwait(false);

        // Recorded only once every read succeeded: a failed call leaves the transaction as it was.
        foreach (int i in remote)
        {
            _reads.Add(asked[i]);
        }

        return values;
    }

    public void Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value)
    {
        ThrowIfNotActive();
        Check(_store.Limits.CheckKey(key.Span));
        Check(_store.Limits.CheckValue(value.Span));
        _writes[key.ToArray()] = value.ToArray();
    }

    public void Delete(ReadOnlyMemory<byte> key)
    {
        ThrowIfNotActive();
        Check(_store.Limits.CheckKey(key.Span));
        _writes[key.ToArray()] = null;
    }

    public async Task<IReadOnlyList<KvEntry>> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, CancellationToken cancellationToken = default)
    {
        ThrowIfNotActive();
        Check(_store.Limits.CheckRange(start.Span, end.Span, limit));
        byte[] endKey = end.ToArray();
        var merged = new SortedDictionary<byte[], byte[]>(ByteArrayOrder.Instance);

        // Fetch enough snapshot entries that buffered deletes cannot leave the page short.
        int deletes = 0;
        foreach (var (k, v) in _writes)
        {
            if (v is null && k.AsSpan().SequenceCompareTo(start.Span) >= 0 && (endKey.Length == 0 || k.AsSpan().SequenceCompareTo(endKey) < 0))
            {
                deletes++;
            }
        }

        int wanted = limit + deletes;
        byte[] cursor = start.ToArray();
        bool exhausted = false;
        byte[]? lastFetched = null;
        while (merged.Count < wanted)
        {
            var page = cursor;
            var response = await ReadAsync("TxnScan", page, shard => new TxnRequest
            {
                Shard = shard.Id,
                Epoch = shard.Epoch,
                Op = TxnOp.Scan,
                StartTs = StartTimestamp,
                Key = page,
                End = endKey,
                Limit = Math.Min(wanted - merged.Count, _store.ScanPageSize),
            }, cancellationToken).ConfigureAwait(false);
            foreach (var entry in response.Entries)
            {
                merged[entry.Key] = entry.Value;
                lastFetched = entry.Key;
            }

            if (response.HasMore)
            {
                cursor = [.. lastFetched!, 0];
                continue;
            }

            if (response.ShardEnd.Length == 0 || (endKey.Length != 0 && response.ShardEnd.AsSpan().SequenceCompareTo(endKey) >= 0))
            {
                exhausted = true;
                break;
            }

            cursor = response.ShardEnd;
        }

        foreach (var (k, v) in _writes)
        {
            if (k.AsSpan().SequenceCompareTo(start.Span) < 0 || (endKey.Length != 0 && k.AsSpan().SequenceCompareTo(endKey) >= 0)
                || (!exhausted && lastFetched is not null && k.AsSpan().SequenceCompareTo(lastFetched) > 0))
            {
                continue;
            }

            if (v is null)
            {
                merged.Remove(k);
            }
            else
            {
                merged[k] = v;
            }
        }

        var result = new List<KvEntry>(Math.Min(limit, merged.Count));
        foreach (var (k, v) in merged)
        {
            if (result.Count == limit)
            {
                break;
            }

            result.Add(new KvEntry(k, v));
        }

        // What was examined: up to the last key returned when the page was cut by the limit, else the whole range.
        byte[] examinedEnd = result.Count == limit && result.Count > 0 ? [.. result[^1].Key, 0] : (!exhausted && lastFetched is not null ? [.. lastFetched, 0] : endKey);
        _ranges.Add(new TxnKeyRange(start.ToArray(), examinedEnd));
        return result;
    }

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotActive();
        _state = State.Committing;
        if (_writes.Count == 0)
        {
            // Read-only: every read came from one snapshot whose shards promised never to change it, so the
            // transaction is serializable at its start timestamp with nothing to check.
            _state = State.Committed;
            return;
        }

        var mutations = new TxnMutation[_writes.Count];
        int i = 0;
        foreach (var (k, v) in _writes)
        {
            mutations[i++] = new TxnMutation(k, v);
        }

        var readKeys = new List<byte[]>();
        foreach (var k in _reads)
        {
            if (!_writes.ContainsKey(k))
            {
                readKeys.Add(k);
            }
        }

        try
        {
            var map = await _store.Router.GetMapAsync(cancellationToken).ConfigureAwait(false);
            if (SingleShard(map, mutations, readKeys) is { } only)
            {
                await CommitOnePhaseAsync(mutations, readKeys, only, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await CommitTwoPhaseAsync(mutations, readKeys, cancellationToken).ConfigureAwait(false);
            }

            _state = State.Committed;
        }
        catch (Exception e) when (e is not CommitOutcomeUnknownException)
        {
            if (_state != State.Committed)
            {
                await RollbackQuietlyAsync().ConfigureAwait(false);
            }

            throw;
        }
        finally
        {
            if (_ownLocks is { } own)
            {
                // After the rollback above, or once the secondaries committing in the background are done.
                _ = _store.SettleAsync(own, _settleAfter);
            }
        }
    }

    public async Task ValidateReadsAsync(long timestamp, CancellationToken cancellationToken = default)
    {
        ThrowIfNotActive();
        if (timestamp <= StartTimestamp)
        {
            throw new ArgumentOutOfRangeException(nameof(timestamp), timestamp, $"must be above the transaction's start timestamp {StartTimestamp}");
        }

        var readKeys = new List<byte[]>();
        foreach (var k in _reads)
        {
            if (!_writes.ContainsKey(k))
            {
                readKeys.Add(k);
            }
        }

        await ValidateAsync(readKeys, timestamp, cancellationToken).ConfigureAwait(false);
    }

    public async Task RollbackAsync(CancellationToken cancellationToken = default)
    {
        if (_state is State.Committed)
        {
            throw new InvalidOperationException("The transaction is committed.");
        }

        if (_state == State.RolledBack)
        {
            return;
        }

        _state = State.RolledBack;
        if (_prewritten is { Count: > 0 } locked)
        {
            await ForEachShardAsync(locked, k => k, async (keys, ct) =>
            {
                var primary = _primary!;
                bool hasPrimary = keys.Exists(k => k.AsSpan().SequenceEqual(primary));
                await _store.TxnCallAsync("TxnRollback", keys.ToArray(), shard => new TxnRequest
                {
                    Shard = shard.Id,
                    Epoch = shard.Epoch,
                    Op = TxnOp.Rollback,
                    StartTs = StartTimestamp,
                    PrimaryKey = hasPrimary ? primary : null,
                    Keys = keys.ToArray(),
                }, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => _state is State.Active or State.Committing ? new ValueTask(RollbackQuietlyAsync()) : ValueTask.CompletedTask;

    /// <summary>Rolls back, swallowing failures: locks left behind expire and are resolved by whoever meets them.</summary>
    internal async Task RollbackQuietlyAsync()
    {
        try
        {
            await RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NoKvException or InvalidOperationException or OperationCanceledException)
        {
            _state = State.RolledBack;
        }
    }

    private ShardDescriptor? SingleShard(ShardMap map, TxnMutation[] mutations, List<byte[]> readKeys)
    {
        var shard = map.FindShard(mutations[0].Key);
        foreach (var m in mutations)
        {
            if (!shard.Range.Contains(m.Key))
            {
                return null;
            }
        }

        foreach (var k in readKeys)
        {
            if (!shard.Range.Contains(k))
            {
                return null;
            }
        }

        foreach (var r in _ranges)
        {
            bool startsInside = r.Start.AsSpan().SequenceCompareTo(shard.Range.Start) >= 0;
            bool endsInside = shard.Range.End.Length == 0 || (r.End.Length != 0 && r.End.AsSpan().SequenceCompareTo(shard.Range.End) <= 0);
            if (!startsInside || !endsInside)
            {
                return null;
            }
        }

        return shard;
    }

    private async Task CommitOnePhaseAsync(TxnMutation[] mutations, List<byte[]> readKeys, ShardDescriptor shard, CancellationToken cancellationToken)
    {
        var keys = new byte[mutations.Length + readKeys.Count][];
        for (int i = 0; i < mutations.Length; i++)
        {
            keys[i] = mutations[i].Key;
        }

        readKeys.CopyTo(keys, mutations.Length);
        var ranges = _ranges.ToArray();
        var reads = readKeys.ToArray();
        while (true)
        {
            TxnResponse response;
            try
            {
                response = await _store.TxnCallAsync("TxnCommit", keys, s => new TxnRequest
                {
                    Shard = s.Id,
                    Epoch = s.Epoch,
                    Op = TxnOp.OnePhase,
                    StartTs = StartTimestamp,
                    Mutations = mutations,
                    Keys = reads,
                    Ranges = ranges,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (NoKvTimeoutException e)
            {
                // The command may have applied; its retry would have been answered from the recorded status.
                throw new CommitOutcomeUnknownException($"Transaction {StartTimestamp}: the one-phase commit got no answer: {e.Message}", e);
            }
            catch (ShardMapChangedException)
            {
                await CommitTwoPhaseAsync(mutations, readKeys, cancellationToken).ConfigureAwait(false);
                return;
            }

            switch (response.Code)
            {
                case NoKvErrorCode.Ok:
                    CommitTimestamp = response.CommitTs;
                    return;
                case NoKvErrorCode.KeyLocked when response.Lock is { } held:
                    await ResolveOrConflictAsync(held, cancellationToken).ConfigureAwait(false);
                    continue;
                default:
                    throw Failure(response);
            }
        }
    }

    private async Task CommitTwoPhaseAsync(TxnMutation[] mutations, List<byte[]> readKeys, CancellationToken cancellationToken)
    {
        var primary = mutations[0].Key;
        _primary = primary;
        _prewritten = new List<byte[]>(mutations.Length);
        _ownLocks ??= _store.TrackOwnLocks(StartTimestamp);
        if (_store.CommitPrimaryInOnePhase && _ranges.Count == 0)
        {
            var map = await _store.Router.GetMapAsync(cancellationToken).ConfigureAwait(false);
            var primaryShard = map.FindShard(primary);
            if (readKeys.TrueForAll(k => primaryShard.Range.Contains(k)))
            {
                await CommitWithPrimaryInOnePhaseAsync(mutations, readKeys, primaryShard, cancellationToken).ConfigureAwait(false);
                return;
            }
        }

        // 1. Prewrite: lock every write, shard by shard, all or nothing per shard.
        await PrewriteAsync(mutations, cancellationToken).ConfigureAwait(false);
        await CommitPrewrittenAsync(mutations, readKeys, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Two-phase commit with the primary's shard committed in one phase (docs/transactions.md, "Primary in one
    /// phase"): the other shards are prewritten and answer with their leaders' read floors; the primary's shard then
    /// checks and writes its keys at once, at a timestamp it stamps above those floors, which is the commit point.
    /// Against the classic order it saves the primary shard's prewrite (a call and a Raft entry) and the oracle call
    /// for the commit timestamp. Taken when every key read but not written lies in the primary's shard (checked at
    /// that apply, like a one-phase commit) and nothing was scanned.
    /// </summary>
    private async Task CommitWithPrimaryInOnePhaseAsync(TxnMutation[] mutations, List<byte[]> readKeys, ShardDescriptor primaryShard, CancellationToken cancellationToken)
    {
        var primary = mutations[0].Key;
        var here = new List<TxnMutation>(mutations.Length);
        var others = new List<TxnMutation>(mutations.Length);
        foreach (var m in mutations)
        {
            (primaryShard.Range.Contains(m.Key) ? here : others).Add(m);
        }

        // 1. Lock the other shards' writes; each answers the floor its snapshots were served below.
        long minCommitTs = await PrewriteAsync(others, cancellationToken).ConfigureAwait(false);
        if (minCommitTs <= 0 && others.Count > 0)
        {
            // A leader that could not tell (not primed, or an older build): a timestamp issued after every lock is in
            // place is above every snapshot that missed them, as in the classic order.
            minCommitTs = await _store.Timestamps.GetTimestampAsync(cancellationToken).ConfigureAwait(false);
        }

        // 2. The primary's shard in one phase: the commit point.
        var writes = here.ToArray();
        var reads = readKeys.ToArray();
        var route = new byte[writes.Length + reads.Length][];
        for (int i = 0; i < writes.Length; i++)
        {
            route[i] = writes[i].Key;
        }

        reads.CopyTo(route, writes.Length);
        TxnResponse committed;
        try
        {
            while (true)
            {
                try
                {
                    committed = await _store.TxnCallAsync("TxnCommit", route, s => new TxnRequest
                    {
                        Shard = s.Id,
                        Epoch = s.Epoch,
                        Op = TxnOp.OnePhasePrimary,
                        StartTs = StartTimestamp,
                        PrimaryKey = primary,
                        MinCommitTs = minCommitTs,
                        Mutations = writes,
                        Keys = reads,
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch (NoKvException e) when (e.Code == NoKvErrorCode.CommandNotEnabled || e.Code == NoKvErrorCode.InvalidRange && e.Message.Contains("unknown transaction operation", StringComparison.Ordinal))
                {
                    // A leader of an older build, or one whose cluster has stores of an older build: refused before
                    // anything was proposed.
                    _store.NoteOnePhasePrimaryRefused();
                    committed = new TxnResponse { Code = e.Code, Detail = e.Message };
                    break;
                }

                if (committed.Code == NoKvErrorCode.KeyLocked && committed.Lock is { } held)
                {
                    await ResolveOrConflictAsync(held, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (committed.Code != NoKvErrorCode.Ok)
                {
                    throw Failure(committed);
                }

                if (committed.CommitTs <= StartTimestamp)
                {
                    throw new InvalidOperationException($"Transaction {StartTimestamp}: its primary's shard answered commit timestamp {committed.CommitTs}, not after the start.");
                }

                break;
            }
        }
        catch (Exception e) when (e is NoKvTimeoutException or OperationCanceledException)
        {
            _state = State.Committed;
            throw new CommitOutcomeUnknownException($"Transaction {StartTimestamp}: the commit of its primary's shard got no answer: {e.Message}", e);
        }
        catch (Exception e) when (e is NoKvException or ShardMapChangedException && e is not CommitOutcomeUnknownException)
        {
            // An earlier attempt of this command may still be on its way (a lost answer, then a refusal of the retry):
            // decide the transaction at the primary first, so that no such attempt can commit it after its other
            // shards' locks are rolled back. The rollback answers Committed if one already did.
            committed = await DecideAtPrimaryAsync(primary, e, cancellationToken).ConfigureAwait(false);
            if (committed.Status != TxnStatus.Committed)
            {
                throw e is ShardMapChangedException ? new TransactionAbortedException($"Transaction {StartTimestamp}: its primary's shard changed during the commit ({e.Message})") : e;
            }
        }

        if (committed.Code != NoKvErrorCode.Ok && committed.Status != TxnStatus.Committed)
        {
            // Finish in the classic order.
            await PrewriteAsync(here, cancellationToken).ConfigureAwait(false);
            await CommitPrewrittenAsync(mutations, readKeys, cancellationToken).ConfigureAwait(false);
            return;
        }

        _ownLocks?.MarkCommitted();
        _state = State.Committed;
        CommitTimestamp = committed.CommitTs;
        if (others.Count == 0)
        {
            return;
        }

        // 3. The other shards' locks, as secondaries (below).
        var finishing = CommitSecondariesAsync(others, committed.CommitTs, _store.CommitSecondariesInBackground ? CancellationToken.None : cancellationToken);
        if (!_store.CommitSecondariesInBackground)
        {
            await finishing.ConfigureAwait(false);
            return;
        }

        _settleAfter = finishing;
    }

    /// <summary>
    /// Records the transaction rolled back at its primary unless it is committed there (then answers Committed with the
    /// commit timestamp). A failure to get an answer makes the outcome unknown.
    /// </summary>
    private async Task<TxnResponse> DecideAtPrimaryAsync(byte[] primary, Exception cause, CancellationToken cancellationToken)
    {
        try
        {
            var decided = await _store.TxnCallAsync("TxnRollback", [primary], s => new TxnRequest
            {
                Shard = s.Id,
                Epoch = s.Epoch,
                Op = TxnOp.Rollback,
                StartTs = StartTimestamp,
                PrimaryKey = primary,
                Keys = [],
            }, cancellationToken).ConfigureAwait(false);
            if (decided.Code != NoKvErrorCode.Ok)
            {
                throw Failure(decided);
            }

            return decided;
        }
        catch (Exception e) when (e is NoKvException or ShardMapChangedException or OperationCanceledException)
        {
            _state = State.Committed;
            throw new CommitOutcomeUnknownException($"Transaction {StartTimestamp}: the commit of its primary's shard failed ({cause.Message}) and its rollback there got no answer: {e.Message}", e);
        }
    }

    /// <summary>
    /// Prewrites <paramref name="mutations"/> shard by shard in parallel (all or nothing per shard); returns the highest
    /// read floor the shards answered with, or 0 when any answered none.
    /// </summary>
    private async Task<long> PrewriteAsync(IReadOnlyCollection<TxnMutation> mutations, CancellationToken cancellationToken)
    {
        var primary = _primary!;
        long ttl = (long)_store.LockTtl.TotalMilliseconds;
        var prewritten = _prewritten!;
        long highestFloor = 0;
        bool floorUnknown = false;
        await ForEachShardAsync(mutations, m => m.Key, async (group, ct) =>
        {
            var keys = group.ConvertAll(m => m.Key).ToArray();
            var batch = group.ToArray();
            lock (prewritten)
            {
                prewritten.AddRange(keys);
            }

            while (true)
            {
                var response = await _store.TxnCallAsync("TxnPrewrite", keys, s => new TxnRequest
                {
                    Shard = s.Id,
                    Epoch = s.Epoch,
                    Op = TxnOp.Prewrite,
                    StartTs = StartTimestamp,
                    PrimaryKey = primary,
                    LockTtlMs = ttl,
                    Mutations = batch,
                }, ct).ConfigureAwait(false);
                switch (response.Code)
                {
                    case NoKvErrorCode.Ok:
                        lock (prewritten)
                        {
                            // One shard that could not tell makes the whole answer unknown.
                            floorUnknown |= response.MinCommitTs <= 0;
                            highestFloor = Math.Max(highestFloor, response.MinCommitTs);
                        }

                        return;
                    case NoKvErrorCode.KeyLocked when response.Lock is { } held:
                        await ResolveOrConflictAsync(held, ct).ConfigureAwait(false);
                        continue;
                    default:
                        throw Failure(response);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
        return floorUnknown ? 0 : highestFloor;
    }

    /// <summary>Steps 2-5 of the classic order, once every write is prewritten.</summary>
    private async Task CommitPrewrittenAsync(TxnMutation[] mutations, List<byte[]> readKeys, CancellationToken cancellationToken)
    {
        var primary = _primary!;

        // 2. The commit timestamp: after every lock is in place, so any snapshot that missed a lock is below it.
        long commitTs = await _store.Timestamps.GetTimestampAsync(cancellationToken).ConfigureAwait(false);

        // 3. Validate the reads: nothing read changed in (start, commit]. The shards raise their read floor to the
        //    commit timestamp first, so nothing can later commit at or below it without this check seeing it.
        await ValidateAsync(readKeys, commitTs, cancellationToken).ConfigureAwait(false);

        // 4. Commit the primary: the transaction's commit point.
        TxnResponse committed;
        try
        {
            committed = await _store.TxnCallAsync("TxnCommit", [primary], s => new TxnRequest
            {
                Shard = s.Id,
                Epoch = s.Epoch,
                Op = TxnOp.Commit,
                StartTs = StartTimestamp,
                CommitTs = commitTs,
                PrimaryKey = primary,
                Keys = [primary],
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NoKvTimeoutException or OperationCanceledException)
        {
            _state = State.Committed;
            throw new CommitOutcomeUnknownException($"Transaction {StartTimestamp}: the commit of its primary got no answer: {e.Message}", e);
        }

        if (committed.Code == NoKvErrorCode.SnapshotTooOld)
        {
            // The primary holds neither lock nor status any more and the transaction is older than the status floor:
            // its outcome was collected (docs/transactions.md, "Collecting status rows"). An earlier attempt of this
            // very commit may have applied, so rerunning the body could apply it twice.
            _state = State.Committed;
            throw new CommitOutcomeUnknownException($"Transaction {StartTimestamp}: its outcome is no longer recorded at the primary ({committed.Detail})", null);
        }

        if (committed.Code != NoKvErrorCode.Ok)
        {
            throw Failure(committed);
        }

        _ownLocks?.MarkCommitted();
        _state = State.Committed;
        CommitTimestamp = commitTs;

        // 5. The other keys. The transaction is committed whatever happens here: a lock left behind is rolled
        //    forward by the next reader through the primary. So by default the caller does not wait for them.
        var secondaries = new List<TxnMutation>(mutations.Length - 1);
        for (int i = 1; i < mutations.Length; i++)
        {
            secondaries.Add(mutations[i]);
        }

        if (secondaries.Count == 0)
        {
            return;
        }

        var finishing = CommitSecondariesAsync(secondaries, commitTs, _store.CommitSecondariesInBackground ? CancellationToken.None : cancellationToken);
        if (!_store.CommitSecondariesInBackground)
        {
            await finishing.ConfigureAwait(false);
            return;
        }

        _settleAfter = finishing;
    }

    /// <summary>Commits the keys after the primary; never throws (whatever is left is resolved by its readers).</summary>
    private async Task CommitSecondariesAsync(List<TxnMutation> secondaries, long commitTs, CancellationToken cancellationToken)
    {
        try
        {
            await ForEachShardAsync(secondaries, m => m.Key, async (group, ct) =>
            {
                var keys = group.ConvertAll(m => m.Key).ToArray();
                if (_store.SecondaryCommits is { } batcher)
                {
                    var map = await _store.Router.GetMapAsync(ct).ConfigureAwait(false);
                    await batcher.CommitAsync(map.FindShard(keys[0]).Id, StartTimestamp, commitTs, keys, ct).ConfigureAwait(false);
                    return;
                }

                await _store.TxnCallAsync("TxnCommit", keys, s => new TxnRequest
                {
                    Shard = s.Id,
                    Epoch = s.Epoch,
                    Op = TxnOp.Commit,
                    StartTs = StartTimestamp,
                    CommitTs = commitTs,
                    Keys = keys,
                }, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NoKvException or OperationCanceledException or ObjectDisposedException)
        {
            // Committed already; resolvers finish the rest (also when the client shut down meanwhile).
        }
    }

    /// <summary>Checks, shard by shard in parallel, that no key of <paramref name="readKeys"/> and no scanned range changed in (start, <paramref name="commitTs"/>].</summary>
    private async Task ValidateAsync(List<byte[]> readKeys, long commitTs, CancellationToken cancellationToken)
    {
        var validations = new List<(byte[] Key, TxnKeyRange? Range)>();
        foreach (var k in readKeys)
        {
            validations.Add((k, null));
        }

        var map = await _store.Router.GetMapAsync(cancellationToken).ConfigureAwait(false);
        foreach (var r in _ranges)
        {
            foreach (var shard in map.Shards)
            {
                if (shard.Range.Overlaps(r.Start, r.End))
                {
                    var s = r.Start.AsSpan().SequenceCompareTo(shard.Range.Start) > 0 ? r.Start : shard.Range.Start;
                    var e = r.End.Length != 0 && (shard.Range.End.Length == 0 || r.End.AsSpan().SequenceCompareTo(shard.Range.End) < 0) ? r.End : shard.Range.End;
                    validations.Add((s, new TxnKeyRange(s, e)));
                }
            }
        }

        await ForEachShardAsync(validations, v => v.Key, async (group, ct) =>
        {
            var keys = group.FindAll(v => v.Range is null).ConvertAll(v => v.Key).ToArray();
            var ranges = group.FindAll(v => v.Range is not null).ConvertAll(v => v.Range!.Value).ToArray();
            var route = group.ConvertAll(v => v.Key).ToArray();
            var response = await _store.TxnCallAsync("TxnValidate", route, s => new TxnRequest
            {
                Shard = s.Id,
                Epoch = s.Epoch,
                Op = TxnOp.Validate,
                StartTs = StartTimestamp,
                CommitTs = commitTs,
                Keys = keys,
                Ranges = ranges,
            }, ct).ConfigureAwait(false);
            if (response.Code != NoKvErrorCode.Ok)
            {
                throw Failure(response);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="action"/> once per shard over the items of that shard (grouped by the current map), in
    /// parallel; items of a group whose shard changed are regrouped against a refreshed map and sent again.
    /// </summary>
    private async Task ForEachShardAsync<T>(IReadOnlyCollection<T> items, Func<T, byte[]> keyOf, Func<List<T>, CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        var pending = new List<T>(items);
        for (int round = 0; pending.Count > 0; round++)
        {
            var map = await _store.Router.GetMapAsync(cancellationToken).ConfigureAwait(false);
            var groups = new Dictionary<ShardId, List<T>>();
            foreach (var item in pending)
            {
                var shard = map.FindShard(keyOf(item)).Id;
                if (!groups.TryGetValue(shard, out var list))
                {
                    groups[shard] = list = new List<T>();
                }

                list.Add(item);
            }

            var tasks = new List<Task>(groups.Count);
            var lists = new List<List<T>>(groups.Count);
            foreach (var group in groups.Values)
            {
                lists.Add(group);
                tasks.Add(action(group, cancellationToken));
            }

            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
                return;
            }
            catch (Exception) when (round < 8 && AllFailuresAreRegroups(tasks))
            {
                pending.Clear();
                for (int i = 0; i < tasks.Count; i++)
                {
                    if (tasks[i].IsFaulted)
                    {
                        pending.AddRange(lists[i]);
                    }
                }

                await _store.Router.RefreshAsync(map, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Report the most telling failure: a conflict or abort over a secondary timeout.
                foreach (var task in tasks)
                {
                    if (task.Exception?.InnerException is TransactionConflictException or TransactionAbortedException)
                    {
                        throw task.Exception.InnerException;
                    }
                }

                throw;
            }
        }
    }

    private static bool AllFailuresAreRegroups(List<Task> tasks)
    {
        foreach (var task in tasks)
        {
            if (task.IsFaulted && task.Exception?.InnerException is not ShardMapChangedException)
            {
                return false;
            }
        }

        return true;
    }

    private async Task<TxnResponse> ReadAsync(string operation, byte[] key, Func<ShardDescriptor, TxnRequest> build, CancellationToken cancellationToken)
    {
        while (true)
        {
            TxnResponse response;
            try
            {
                response = await _store.TxnCallAsync(operation, [key], build, cancellationToken).ConfigureAwait(false);
            }
            catch (ShardMapChangedException)
            {
                continue;
            }

            switch (response.Code)
            {
                case NoKvErrorCode.Ok:
                    return response;
                case NoKvErrorCode.KeyLocked when response.Lock is { } held:
                    await ResolveOrWaitAsync(held, cancellationToken).ConfigureAwait(false);
                    continue;
                default:
                    throw Failure(response);
            }
        }
    }

    /// <summary>
    /// A commit that meets a live transaction's lock gives up (the caller reruns it) instead of waiting: two
    /// transactions each waiting on the other's lock would otherwise both wait out their TTLs.
    /// </summary>
    private async Task ResolveOrConflictAsync(TxnLockInfo held, CancellationToken cancellationToken)
    {
        if (!await _store.ResolveLockAsync(held, cancellationToken, waitForLive: false).ConfigureAwait(false))
        {
            throw new TransactionConflictException($"Transaction {StartTimestamp}: key {KeyFormatter.Format(held.Key)} is locked by live transaction {held.StartTs}", held.Key);
        }
    }

    /// <summary>Resolves a lock through its primary, or waits a little while its transaction is live.</summary>
    private async Task ResolveOrWaitAsync(TxnLockInfo held, CancellationToken cancellationToken)
    {
        if (!await _store.ResolveLockAsync(held, cancellationToken).ConfigureAwait(false))
        {
            long remaining = Math.Max(1, held.TtlMs - held.AgeMs);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(remaining, 10 + Random.Shared.Next(40))), cancellationToken).ConfigureAwait(false);
        }
    }

    private NoKvException Failure(TxnResponse response) => response.Code switch
    {
        NoKvErrorCode.WriteConflict => new TransactionConflictException($"Transaction {StartTimestamp} conflicts: {response.Detail}", response.ConflictKey),
        NoKvErrorCode.TxnAborted => new TransactionAbortedException($"Transaction {StartTimestamp} was rolled back: {response.Detail}"),
        _ => NoKvErrors.FromCode(response.Code, default, response.LeaderHint, response.CurrentEpoch, response.Detail),
    };

    private void ThrowIfNotActive()
    {
        if (_state != State.Active)
        {
            throw new InvalidOperationException($"Transaction {StartTimestamp} is {_state.ToString().ToLowerInvariant()}.");
        }
    }

    private static void Check(NoKvException? error)
    {
        if (error is not null)
        {
            throw error;
        }
    }
}
