using NoKv.Abstractions.Requests;

namespace NoKv.Client.Transactions;

/// <summary>
/// A serializable transaction (docs/transactions.md). Reads see a snapshot at <see cref="StartTimestamp"/> plus the
/// transaction's own writes; writes are buffered here until <see cref="CommitAsync"/>, which makes them all visible
/// at once or none of them. Committing also checks that nothing the transaction read changed before its commit, so
/// the committed transactions are equivalent to running one at a time (write skew aborts).
/// Failures: <see cref="NoKv.Abstractions.Errors.TransactionConflictException"/> (rolled back; run it again),
/// <see cref="NoKv.Abstractions.Errors.TransactionAbortedException"/> (rolled back by a lock resolver or by
/// <see cref="RollbackAsync"/>), <see cref="NoKv.Abstractions.Errors.CommitOutcomeUnknownException"/> (commit sent,
/// no answer: it committed entirely or not at all). Not thread-safe: one logical caller at a time.
/// </summary>
public interface ITransaction : IAsyncDisposable
{
    /// <summary>The snapshot timestamp from the cluster's timestamp oracle.</summary>
    long StartTimestamp { get; }

    /// <summary>The value of <paramref name="key"/> in the snapshot (or as this transaction wrote it); null when absent.</summary>
    Task<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default);

    /// <summary>
    /// The values of <paramref name="keys"/> in the snapshot (or as this transaction wrote them), null where absent, in
    /// the order given. The reads go out at once, one request per shard for all of that shard's keys, so reading k keys
    /// costs about one read's time instead of k. The default body reads one key after another (for implementations that cannot do better).
    /// </summary>
    async Task<IReadOnlyList<byte[]?>> GetManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var values = new byte[]?[keys.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = await GetAsync(keys[i], cancellationToken).ConfigureAwait(false);
        }

        return values;
    }

    /// <summary>Buffers a put; visible to this transaction's reads at once, to others after commit.</summary>
    void Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value);

    /// <summary>Buffers a delete.</summary>
    void Delete(ReadOnlyMemory<byte> key);

    /// <summary>
    /// Keys in [<paramref name="start"/>, <paramref name="end"/>) of the snapshot with this transaction's writes
    /// applied, ascending, at most <paramref name="limit"/> (an empty end is unbounded). The range read is validated
    /// at commit, so a key inserted into it by another transaction aborts this one (no phantoms).
    /// </summary>
    Task<IReadOnlyList<KvEntry>> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, CancellationToken cancellationToken = default);

    /// <summary>Commits atomically; returns once the commit is durable (its commit timestamp is then set).</summary>
    Task CommitAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks, without committing, that nothing this transaction has read so far (keys and scanned ranges, not its
    /// own writes) changed between its start and <paramref name="timestamp"/>, an oracle timestamp above the start
    /// (e.g. a later transaction's start timestamp). The shards raise their read floor to it first, so a change
    /// stamped at or below it cannot appear after the check. Throws
    /// <see cref="NoKv.Abstractions.Errors.TransactionConflictException"/> when something changed (or another
    /// transaction that started before it holds a lock on a key read). The RESP gateway's WATCH is built on it: the
    /// watched keys are read by one transaction, and EXEC checks them up to the start of the transaction it runs.
    /// </summary>
    Task ValidateReadsAsync(long timestamp, CancellationToken cancellationToken = default);

    /// <summary>Discards the transaction; any locks it placed are removed.</summary>
    Task RollbackAsync(CancellationToken cancellationToken = default);

    /// <summary>The commit timestamp once committed (0 before, and for a read-only transaction, which commits at its start).</summary>
    long CommitTimestamp { get; }
}
