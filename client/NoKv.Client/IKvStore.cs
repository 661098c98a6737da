using NoKv.Abstractions.Locks;
using NoKv.Abstractions.Requests;

namespace NoKv.Client;

/// <summary>
/// The NoKV key-value API. Every operation is linearizable unless a read asks for bounded staleness.
/// Failures surface as <see cref="NoKv.Abstractions.Errors.NoKvException"/> subclasses: bad input
/// (EmptyKey, KeyTooLarge, ValueTooLarge, InvalidRange) before anything is sent, and
/// <see cref="NoKv.Abstractions.Errors.NoKvTimeoutException"/> when the cluster could not complete the
/// operation within the deadline (its LastError says why). Writes are exactly-once: a write retried
/// internally after a lost reply is applied once. Thread-safe; one instance serves a whole application.
/// Buffers passed in must not change until the returned task completes.
/// </summary>
public interface IKvStore
{
    /// <summary>The value of <paramref name="key"/>, or null when absent.</summary>
    Task<byte[]?> GetAsync(ReadOnlyMemory<byte> key, KvReadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>; completes once durable on a majority.</summary>
    Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default);

    /// <summary>Removes <paramref name="key"/> (no error if absent); completes once durable on a majority.</summary>
    Task DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Atomically: if the current value equals <paramref name="expected"/> (null = key absent), set it to
    /// <paramref name="newValue"/> (null = delete) and return true; otherwise change nothing and return false.
    /// </summary>
    Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? expected, ReadOnlyMemory<byte>? newValue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keys in [<paramref name="start"/>, <paramref name="end"/>) in ascending order, at most
    /// <paramref name="limit"/>, crossing shard boundaries. An empty start means the first key; an empty
    /// end means unbounded. Each page (one shard, up to the page size) is read linearizably; a scan that
    /// spans several pages is not a single point-in-time snapshot.
    /// </summary>
    IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, KvReadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a serializable transaction (docs/transactions.md) with a snapshot from the cluster's timestamp oracle.
    /// Commit or roll it back; disposing an unfinished transaction rolls it back.
    /// </summary>
    Task<Transactions.ITransaction> BeginTransactionAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support transactions.");

    /// <summary>
    /// Runs <paramref name="body"/> in a transaction and commits it, running it again (in a fresh transaction) when
    /// it conflicts with another, up to <see cref="NoKvClientOptions.TransactionMaxAttempts"/> times. The body must
    /// have no effects outside the transaction, since it may run more than once. An exception from the body rolls
    /// the transaction back and propagates.
    /// </summary>
    Task TransactAsync(Func<Transactions.ITransaction, Task> body, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support transactions.");

    /// <summary>Like <see cref="TransactAsync(Func{Transactions.ITransaction, Task}, CancellationToken)"/>, returning the body's result.</summary>
    Task<T> TransactAsync<T>(Func<Transactions.ITransaction, Task<T>> body, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support transactions.");

    /// <summary>
    /// <see cref="PutAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/> fenced by a lock token: refused with
    /// <see cref="NoKv.Abstractions.Errors.FencedOutException"/>, changing nothing, if the key's shard has already seen a
    /// write fenced with a newer token of the same lock (docs/locks.md).
    /// </summary>
    Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, LockFence fence, CancellationToken cancellationToken = default);

    /// <summary><see cref="DeleteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> fenced by a lock token (see the fenced PutAsync).</summary>
    Task DeleteAsync(ReadOnlyMemory<byte> key, LockFence fence, CancellationToken cancellationToken = default);

    /// <summary>CompareAndSwapAsync fenced by a lock token (see the fenced PutAsync); a refused write throws, a mismatch returns false.</summary>
    Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? expected, ReadOnlyMemory<byte>? newValue, LockFence fence, CancellationToken cancellationToken = default);
}
