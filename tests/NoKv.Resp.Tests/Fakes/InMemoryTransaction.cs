using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Client.Transactions;
using NoKv.Resp.Execution;

namespace NoKv.Resp.Tests.Fakes;

/// <summary>
/// An optimistic transaction over <see cref="InMemoryKvStore"/>: buffered writes, a read set, and a commit (and a
/// read validation) that fail with <see cref="TransactionConflictException"/> when a key read or written was written
/// by anyone after the start. Serializable like the store's transactions, though stricter: reads see the newest value,
/// so a read-only transaction whose reads changed fails its commit too.
/// </summary>
internal sealed class InMemoryTransaction(InMemoryKvStore store, long startTimestamp) : ITransaction
{
    private readonly Dictionary<byte[], byte[]?> _writes = new(ByteArrayComparer.Instance);
    private readonly HashSet<byte[]> _reads = new(ByteArrayComparer.Instance);
    private bool _done;

    public long StartTimestamp { get; } = startTimestamp;

    public long CommitTimestamp { get; private set; }

    public async Task<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        ThrowIfDone();
        await Task.Yield();
        var k = key.ToArray();
        if (_writes.TryGetValue(k, out var own))
        {
            return own;
        }

        _reads.Add(k);
        return store.TxnRead(k);
    }

    public void Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value)
    {
        ThrowIfDone();
        _writes[key.ToArray()] = value.ToArray();
    }

    public void Delete(ReadOnlyMemory<byte> key)
    {
        ThrowIfDone();
        _writes[key.ToArray()] = null;
    }

    public Task<IReadOnlyList<KvEntry>> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The gateway does not scan inside transactions.");

    public async Task ValidateReadsAsync(long timestamp, CancellationToken cancellationToken = default)
    {
        ThrowIfDone();
        await Task.Yield();
        if (store.ChangedKey(_reads, StartTimestamp, timestamp) is { } changed)
        {
            throw new TransactionConflictException($"a read key changed after {StartTimestamp}", changed);
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDone();
        _done = true;
        await Task.Yield();
        await store.CommitAsync(StartTimestamp, _reads, _writes);
        CommitTimestamp = StartTimestamp;
    }

    public Task RollbackAsync(CancellationToken cancellationToken = default)
    {
        _done = true;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _done = true;
        return ValueTask.CompletedTask;
    }

    private void ThrowIfDone()
    {
        if (_done)
        {
            throw new InvalidOperationException("The transaction is finished.");
        }
    }
}
