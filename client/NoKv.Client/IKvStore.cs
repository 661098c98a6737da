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
    /// The new value never expires. Beware: a null <c>byte[]</c> passed here converts to an empty value, not to null;
    /// the <see cref="KvExpected"/> overload says absent and delete explicitly.
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

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/> with an expiry (or keeping the current one) and an optional
    /// fence (<see cref="KvWriteOptions"/>). An expired key is absent to every read, scan and compare-and-swap, and is
    /// dropped from storage by garbage collection. Completes once durable on a majority.
    /// </summary>
    Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, KvWriteOptions options, CancellationToken cancellationToken = default) =>
        options.HasExpiry || options.Fence is not null
            ? throw new NotSupportedException($"{GetType().Name} does not support key expiry.")
            : PutAsync(key, value, cancellationToken);

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, expiring <paramref name="timeToLive"/> after the shard leader proposes it.</summary>
    Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default) =>
        PutAsync(key, value, KvWriteOptions.WithTimeToLive(timeToLive), cancellationToken);

    /// <summary>The value of <paramref name="key"/> with its expiry, or null when absent (or expired).</summary>
    Task<KvValue?> GetWithExpiryAsync(ReadOnlyMemory<byte> key, KvReadOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support key expiry.");

    /// <summary>
    /// Atomically gives the live value of <paramref name="key"/> a new expiry, <paramref name="timeToLive"/> from when the
    /// shard leader proposes it, if <paramref name="condition"/> holds against its current expiry (Redis EXPIRE with
    /// NX/XX/GT/LT). Returns true when the key existed and the expiry was set; false (changing nothing) when it was
    /// absent or the condition failed. Zero or negative removes the key. The value itself is untouched.
    /// </summary>
    Task<bool> ExpireAsync(ReadOnlyMemory<byte> key, TimeSpan timeToLive, ExpireCondition condition = ExpireCondition.Always, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support key expiry.");

    /// <summary>Like <see cref="ExpireAsync"/>, with an absolute expiry; a time in the past removes the key.</summary>
    Task<bool> ExpireAtAsync(ReadOnlyMemory<byte> key, DateTimeOffset expiresAt, ExpireCondition condition = ExpireCondition.Always, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support key expiry.");

    /// <summary>
    /// Atomically removes the expiry of <paramref name="key"/>'s live value. Returns whether the key existed; with
    /// <see cref="ExpireCondition.IfHasExpiry"/>, whether it existed and had an expiry to remove (Redis PERSIST).
    /// </summary>
    Task<bool> PersistAsync(ReadOnlyMemory<byte> key, ExpireCondition condition = ExpireCondition.Always, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not support key expiry.");

    /// <summary>
    /// Atomically: if the key is as <paramref name="expected"/> says (a value, or <see cref="KvExpected.Absent"/>), set it
    /// to <paramref name="newValue"/> (null = delete) with <paramref name="options"/> (expiry, fence) and return true;
    /// otherwise change nothing and return false. The explicit form of the other overloads.
    /// </summary>
    Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, KvExpected expected, byte[]? newValue, KvWriteOptions? options = null, CancellationToken cancellationToken = default) =>
        options is { } o && (o.HasExpiry || o.Fence is not null)
            ? throw new NotSupportedException($"{GetType().Name} does not support key expiry.")
            : CompareAndSwapAsync(key, expected.IsPresent ? (ReadOnlyMemory<byte>?)expected.Bytes : null, newValue is null ? null : (ReadOnlyMemory<byte>?)newValue, cancellationToken);
}
