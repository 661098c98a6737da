using System.Runtime.CompilerServices;
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
    private readonly KvLimits _limits;

    public InMemoryKvStore(KvLimits? limits = null) => _limits = limits ?? KvLimits.Default;

    public Func<byte[], Task>? BeforeCompareAndSwap { get; set; }

    public NoKvException? Fail { get; set; }

    public int CompareAndSwaps;
    public int Puts;
    public int Gets;

    public byte[]? Peek(byte[] key)
    {
        lock (_gate)
        {
            return _data.TryGetValue(key, out var value) ? value : null;
        }
    }

    public void Load(byte[] key, byte[] value)
    {
        lock (_gate)
        {
            _data[key] = value;
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
            _data[key.ToArray()] = value.ToArray();
        }
    }

    public async Task DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        Check(_limits.CheckKey(key.Span));
        await Task.Yield();
        lock (_gate)
        {
            _data.Remove(key.ToArray());
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
            _data.TryGetValue(owned, out var current);
            bool matches = expected is { } e ? current is not null && e.Span.SequenceEqual(current) : current is null;
            if (!matches)
            {
                return false;
            }

            if (newValue is { } v)
            {
                _data[owned] = v.ToArray();
            }
            else
            {
                _data.Remove(owned);
            }

            return true;
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
