using System.Collections.Concurrent;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Client.Timestamps;
using NoKv.Client.Transactions;

namespace NoKv.Client;

internal sealed partial class KvStore
{
    private ITimestampSource? _timestamps;

    /// <summary>Two-phase commits of this client that hold locks now, by start timestamp (see <see cref="OwnLocks"/>).</summary>
    private readonly ConcurrentDictionary<long, OwnLocks> _ownLocks = new();

    /// <summary>The cluster's timestamp oracle (resolved on first use; tests may set their own).</summary>
    internal ITimestampSource Timestamps
    {
        get => _timestamps ??= _services?.GetService(typeof(ITimestampSource)) as ITimestampSource
            ?? throw new InvalidOperationException("Transactions need an ITimestampSource; AddNoKvClient registers one.");
        set => _timestamps = value;
    }

    public async Task<ITransaction> BeginTransactionAsync(CancellationToken cancellationToken = default) =>
        new Transaction(this, await Timestamps.GetTimestampAsync(cancellationToken).ConfigureAwait(false));

    public async Task TransactAsync(Func<ITransaction, Task> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        await TransactAsync(async tx =>
        {
            await body(tx).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<T> TransactAsync<T>(Func<ITransaction, Task<T>> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        for (int attempt = 1; ; attempt++)
        {
            var tx = (Transaction)await BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await body(tx).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (NoKvException e) when ((e is TransactionConflictException or TransactionAbortedException || e.Code == NoKvErrorCode.SnapshotTooOld) && attempt < _options.TransactionMaxAttempts)
            {
                await tx.RollbackQuietlyAsync().ConfigureAwait(false);

                // Randomized, growing backoff so that conflicting transactions stop meeting each other.
                var cap = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * (1 << Math.Min(attempt, 8)));
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * cap), _time, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await tx.RollbackQuietlyAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// One transactional request to the shard that owns every key of <paramref name="groupKeys"/> (the first one
    /// routes), retried like any request until Ok or a transactional answer (KeyLocked, WriteConflict, TxnAborted),
    /// which is returned for the caller to act on.
    /// </summary>
    /// <exception cref="ShardMapChangedException">The keys no longer share one shard; regroup.</exception>
    internal async Task<TxnResponse> TxnCallAsync(string operation, byte[][] groupKeys, Func<ShardDescriptor, TxnRequest> build, CancellationToken cancellationToken)
    {
        using var retry = NewRetry(operation, cancellationToken);
        return await ExecuteAsync(retry, groupKeys[0], leaderOnly: true, (Keys: groupKeys, Build: build), static (endpoint, shard, s, ct) =>
        {
            foreach (var key in s.Keys)
            {
                if (!shard.Range.Contains(key))
                {
                    throw new ShardMapChangedException($"key {KeyFormatter.Format(key)} is no longer in shard {shard.Id} {shard.Range}");
                }
            }

            return endpoint.TxnAsync(s.Build(shard), ct);
        }).ConfigureAwait(false);
    }

    /// <summary>Registers a two-phase commit's locks before its first prewrite; <see cref="SettleAsync"/> ends it.</summary>
    internal OwnLocks TrackOwnLocks(long startTs)
    {
        var own = new OwnLocks(startTs);
        _ownLocks[startTs] = own;
        return own;
    }

    /// <summary>Forgets <paramref name="own"/> and wakes whoever waits on its locks, once <paramref name="after"/> ended.</summary>
    internal async Task SettleAsync(OwnLocks own, Task? after = null)
    {
        try
        {
            if (after is not null)
            {
                await after.ConfigureAwait(false);
            }
        }
        finally
        {
            _ownLocks.TryRemove(new KeyValuePair<long, OwnLocks>(own.StartTs, own));
            own.Settle();
        }
    }

    /// <summary>
    /// Resolves a lock met by a read or write through the lock's primary: rolls the key forward if its transaction
    /// committed, back if it was rolled back (or its primary lock expired, which CheckStatus decides at the primary).
    /// Returns false when the transaction is still live: the caller waits and tries again.
    /// </summary>
    /// <param name="waitForLive">
    /// Whether to wait for a live (not yet committed) transaction of this client. A caller holding no locks may; a
    /// commit that meets the lock must not (two commits waiting for each other's locks would never end), so it waits
    /// only for committed ones, whose remaining secondary commits wait for nobody.
    /// </param>
    internal async Task<bool> ResolveLockAsync(TxnLockInfo held, CancellationToken cancellationToken, bool waitForLive = true)
    {
        if (_ownLocks.TryGetValue(held.StartTs, out var own) && (waitForLive || own.IsCommitted))
        {
            // This client runs the lock's transaction: once its commit (or rollback) is done the key is resolved; if
            // some step of it failed, the caller meets the lock again and resolves it through the primary below.
            await own.Settled.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }

        var status = await TxnCallAsync("CheckTxnStatus", [held.PrimaryKey], shard => new TxnRequest
        {
            Shard = shard.Id,
            Epoch = shard.Epoch,
            Op = TxnOp.CheckStatus,
            StartTs = held.StartTs,
            PrimaryKey = held.PrimaryKey,
            RollbackIfAbsent = held.IsExpired,
        }, cancellationToken).ConfigureAwait(false);
        bool isPrimary = held.Key.AsSpan().SequenceEqual(held.PrimaryKey);
        switch (status.Status)
        {
            case TxnStatus.Committed:
                await TxnCallAsync("ResolveLock", [held.Key], shard => new TxnRequest
                {
                    Shard = shard.Id,
                    Epoch = shard.Epoch,
                    Op = TxnOp.Commit,
                    StartTs = held.StartTs,
                    CommitTs = status.CommitTs,
                    PrimaryKey = isPrimary ? held.Key : null,
                    Keys = [held.Key],
                }, cancellationToken).ConfigureAwait(false);
                return true;
            case TxnStatus.RolledBack:
                if (!isPrimary)
                {
                    await TxnCallAsync("ResolveLock", [held.Key], shard => new TxnRequest
                    {
                        Shard = shard.Id,
                        Epoch = shard.Epoch,
                        Op = TxnOp.Rollback,
                        StartTs = held.StartTs,
                        Keys = [held.Key],
                    }, cancellationToken).ConfigureAwait(false);
                }

                return true;
            default:
                return false;
        }
    }
}
