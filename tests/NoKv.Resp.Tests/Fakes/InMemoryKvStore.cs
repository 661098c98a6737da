using System.Runtime.CompilerServices;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Client;

namespace NoKv.Resp.Tests.Fakes;

/// <summary>
/// A linearizable in-memory <see cref="IKvStore"/> with the SDK's input checks: every operation takes one lock, and
/// yields first so concurrent callers really interleave. <see cref="BeforeCompareAndSwap"/> lets a test change a key
/// between a command's read and its swap (a lost race), and <see cref="Fail"/> makes every call fail.
/// </summary>
internal sealed class InMemoryKvStore : IKvStore
{
    private readonly object _gate = new();
    private readonly SortedDictionary<byte[], byte[]> _data = new(ByteOrder.Instance);

    // Expiry (Unix ms) of keys that have one; a key whose expiry is at or before NowMs() is absent, as in the store.
    private readonly Dictionary<byte[], long> _expiry = new(NoKv.Resp.Execution.ByteArrayComparer.Instance);
    private readonly KvLimits _limits;

    // Every write stamps its key with the next tick of one clock; transactions take their timestamps from it too.
    private readonly Dictionary<byte[], long> _stamps = new(NoKv.Resp.Execution.ByteArrayComparer.Instance);
    private long _clock;

    public InMemoryKvStore(KvLimits? limits = null) => _limits = limits ?? KvLimits.Default;

    public Func<byte[], Task>? BeforeCompareAndSwap { get; set; }

    /// <summary>The store's clock (the shard leader's), in Unix ms; a test may move it.</summary>
    public Func<long> NowMs { get; set; } = () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public NoKvException? Fail { get; set; }

    public int CompareAndSwaps;
    public int Puts;
    public int Gets;

    public byte[]? Peek(byte[] key)
    {
        lock (_gate)
        {
            return LiveValue(key);
        }
    }

    /// <summary>The key's expiry in Unix ms (0: none or absent).</summary>
    public long PeekExpiry(byte[] key)
    {
        lock (_gate)
        {
            return LiveValue(key) is not null && _expiry.TryGetValue(key, out long at) ? at : 0;
        }
    }

    // REQUIRES: _gate held.
    private byte[]? LiveValue(byte[] key)
    {
        if (!_data.TryGetValue(key, out var value))
        {
            return null;
        }

        if (_expiry.TryGetValue(key, out long at) && at <= NowMs())
        {
            _data.Remove(key);
            _expiry.Remove(key);
            return null;
        }

        return value;
    }

    // REQUIRES: _gate held. Writes a value with the expiry the options give it (as the store's apply does).
    private void Store(byte[] key, byte[]? value, KvWriteOptions? options)
    {
        _stamps[key] = ++_clock;
        long current = LiveValue(key) is not null && _expiry.TryGetValue(key, out long at) ? at : 0;
        long now = NowMs();
        long expiry = options is null ? 0
            : options.KeepTimeToLive ? current
            : options.TimeToLive is { } ttl ? (ttl <= TimeSpan.Zero ? 1 : now + (long)Math.Ceiling(ttl.TotalMilliseconds))
            : options.ExpiresAt is { } when ? Math.Max(1, when.ToUnixTimeMilliseconds())
            : 0;
        if (value is null || (expiry != 0 && expiry <= now))
        {
            _data.Remove(key);
            _expiry.Remove(key);
            return;
        }

        _data[key] = value;
        if (expiry == 0)
        {
            _expiry.Remove(key);
        }
        else
        {
            _expiry[key] = expiry;
        }
    }

    public async Task<KvValue?> GetWithExpiryAsync(ReadOnlyMemory<byte> key, KvReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckKey(key.Span));
        await Task.Yield();
        Interlocked.Increment(ref Gets);
        lock (_gate)
        {
            var owned = key.ToArray();
            if (LiveValue(owned) is not { } value)
            {
                return null;
            }

            if (!_expiry.TryGetValue(owned, out long at))
            {
                return new KvValue(value, null, null);
            }

            return new KvValue(value, DateTimeOffset.FromUnixTimeMilliseconds(at), TimeSpan.FromMilliseconds(at - NowMs()));
        }
    }

    public async Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, KvWriteOptions options, CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckKey(key.Span));
        Check(_limits.CheckValue(value.Span));
        await Task.Yield();
        Interlocked.Increment(ref Puts);
        lock (_gate)
        {
            Store(key.ToArray(), value.ToArray(), options);
        }
    }

    public async Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, KvExpected expected, byte[]? newValue, KvWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckKey(key.Span));
        if (newValue is not null)
        {
            Check(_limits.CheckValue(newValue));
        }

        var owned = key.ToArray();
        if (BeforeCompareAndSwap is { } hook)
        {
            await hook(owned);
        }

        await Task.Yield();
        Interlocked.Increment(ref CompareAndSwaps);
        lock (_gate)
        {
            var current = LiveValue(owned);
            bool matches = expected.IsPresent ? current is not null && expected.Bytes.Span.SequenceEqual(current) : current is null;
            if (matches)
            {
                Store(owned, newValue?.ToArray(), options);
            }

            return matches;
        }
    }

    public void Load(byte[] key, byte[] value, long expiresAtMs = 0)
    {
        lock (_gate)
        {
            _stamps[key] = ++_clock;
            _data[key] = value;
            if (expiresAtMs != 0)
            {
                _expiry[key] = expiresAtMs;
            }
        }
    }

    public async Task<byte[]?> GetAsync(ReadOnlyMemory<byte> key, KvReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckKey(key.Span));
        await Task.Yield();
        Interlocked.Increment(ref Gets);
        return Peek(key.ToArray());
    }

    public async Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckKey(key.Span));
        Check(_limits.CheckValue(value.Span));
        await Task.Yield();
        Interlocked.Increment(ref Puts);
        lock (_gate)
        {
            Store(key.ToArray(), value.ToArray(), null);
        }
    }

    public async Task DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckKey(key.Span));
        await Task.Yield();
        lock (_gate)
        {
            Store(key.ToArray(), null, null);
        }
    }

    public async Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? expected, ReadOnlyMemory<byte>? newValue, CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckKey(key.Span));
        if (newValue is { } n)
        {
            Check(_limits.CheckValue(n.Span));
        }

        var owned = key.ToArray();
        if (BeforeCompareAndSwap is { } hook)
        {
            await hook(owned);
        }

        await Task.Yield();
        Interlocked.Increment(ref CompareAndSwaps);
        lock (_gate)
        {
            var current = LiveValue(owned);
            bool matches = expected is { } e ? current is not null && e.Span.SequenceEqual(current) : current is null;
            if (matches)
            {
                Store(owned, newValue?.ToArray(), null);
            }

            return matches;
        }
    }

    public async IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, KvReadOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckRange(start.Span, end.Span, limit));
        await Task.Yield();
        List<KvEntry> page;
        lock (_gate)
        {
            page = _data
                .ToList()
                .Where(kv => LiveValue(kv.Key) is not null)
                .Where(kv => kv.Key.AsSpan().SequenceCompareTo(start.Span) >= 0 && (end.IsEmpty || kv.Key.AsSpan().SequenceCompareTo(end.Span) < 0))
                .Take(limit)
                .Select(kv => new KvEntry(kv.Key, kv.Value))
                .ToList();
        }

        foreach (var entry in page)
        {
            yield return entry;
        }
    }

    public int TransactionsBegun;

    public int TransactionsCommitted;

    /// <summary>Runs before a transaction's commit checks (a test may change keys there: a lost race).</summary>
    public Func<Task>? BeforeCommit { get; set; }

    public async Task<NoKv.Client.Transactions.ITransaction> BeginTransactionAsync(CancellationToken cancellationToken = default)
    {
        Check(null);
        await Task.Yield();
        Interlocked.Increment(ref TransactionsBegun);
        lock (_gate)
        {
            return new InMemoryTransaction(this, ++_clock);
        }
    }

    // The transaction fake's view of the store. Reads return the newest value (not the snapshot's): a value newer
    // than the start fails the read's validation at commit, so a committed transaction still saw its snapshot.
    internal byte[]? TxnRead(byte[] key)
    {
        Check(_limits.CheckKey(key));
        lock (_gate)
        {
            return LiveValue(key);
        }
    }

    /// <summary>The first key of <paramref name="keys"/> written in (<paramref name="after"/>, <paramref name="upTo"/>], or null.</summary>
    internal byte[]? ChangedKey(IEnumerable<byte[]> keys, long after, long upTo)
    {
        lock (_gate)
        {
            return FirstChanged(keys, after, upTo);
        }
    }

    // REQUIRES: _gate held.
    private byte[]? FirstChanged(IEnumerable<byte[]> keys, long after, long upTo)
    {
        foreach (var key in keys)
        {
            if (_stamps.TryGetValue(key, out long stamp) && stamp > after && stamp <= upTo)
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>Commits atomically if no key read or written changed since <paramref name="start"/>.</summary>
    internal async Task CommitAsync(long start, IReadOnlyCollection<byte[]> reads, IReadOnlyDictionary<byte[], byte[]?> writes)
    {
        if (BeforeCommit is { } hook)
        {
            await hook();
        }

        Check(null);
        lock (_gate)
        {
            if (FirstChanged(reads.Concat(writes.Keys), start, long.MaxValue) is { } changed)
            {
                throw new TransactionConflictException($"key {Encoding.ASCII.GetString(changed)} changed after {start}", changed);
            }

            foreach (var (key, value) in writes)
            {
                Store(key, value, null);
            }
        }

        Interlocked.Increment(ref TransactionsCommitted);
    }

    private void Check(NoKvException? error)
    {
        if (error is not null)
        {
            throw error;
        }

        if (Fail is { } fail)
        {
            throw fail;
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    // Fenced writes belong to the lock service, which the RESP gateway does not use.
    public Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, NoKv.Abstractions.Locks.LockFence fence, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task DeleteAsync(ReadOnlyMemory<byte> key, NoKv.Abstractions.Locks.LockFence fence, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? expected, ReadOnlyMemory<byte>? newValue, NoKv.Abstractions.Locks.LockFence fence, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
