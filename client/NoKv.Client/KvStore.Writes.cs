using NoKv.Abstractions.Locks;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;

namespace NoKv.Client;

internal sealed partial class KvStore
{
    public Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        ThrowIfInvalid(_limits.CheckValue(value.Span));
        return WriteAsync("Put", WriteKind.Put, key, value.ToArray(), null, cancellationToken);
    }

    public Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, LockFence fence, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        ThrowIfInvalid(_limits.CheckValue(value.Span));
        CheckFence(fence);
        return WriteAsync("Put", WriteKind.Put, key, value.ToArray(), null, cancellationToken, fence);
    }

    public Task DeleteAsync(ReadOnlyMemory<byte> key, LockFence fence, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        CheckFence(fence);
        return WriteAsync("Delete", WriteKind.Delete, key, null, null, cancellationToken, fence);
    }

    public async Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? expected, ReadOnlyMemory<byte>? newValue, LockFence fence, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        ThrowIfInvalid(expected is { } e ? _limits.CheckValue(e.Span) : null);
        ThrowIfInvalid(newValue is { } n ? _limits.CheckValue(n.Span) : null);
        CheckFence(fence);
        var response = await WriteAsync("CompareAndSwap", WriteKind.CompareAndSwap, key, newValue?.ToArray(), expected?.ToArray(), cancellationToken, fence).ConfigureAwait(false);
        return response.Succeeded;
    }

    private void CheckFence(LockFence fence)
    {
        ArgumentNullException.ThrowIfNull(fence);
        ThrowIfInvalid(fence.Resource is null ? new NoKv.Abstractions.Errors.InvalidLockRequestException("a fence names a lock") : _limits.CheckKey(fence.Resource));
        if (fence.Token <= 0)
        {
            throw new NoKv.Abstractions.Errors.InvalidLockRequestException($"fence token {fence.Token} is not a granted token");
        }
    }

    public Task DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        return WriteAsync("Delete", WriteKind.Delete, key, null, null, cancellationToken);
    }

    public async Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? expected, ReadOnlyMemory<byte>? newValue, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        if (expected is { } e)
        {
            ThrowIfInvalid(_limits.CheckValue(e.Span));
        }

        if (newValue is { } n)
        {
            ThrowIfInvalid(_limits.CheckValue(n.Span));
        }

        var response = await WriteAsync("CompareAndSwap", WriteKind.CompareAndSwap, key, newValue?.ToArray(), expected?.ToArray(), cancellationToken).ConfigureAwait(false);
        return response.Succeeded;
    }

    /// <summary>
    /// One write under one session sequence: every retry of it carries the same (session, sequence), so the
    /// shard applies it at most once however many replies are lost.
    /// </summary>
    private async Task<WriteResponse> WriteAsync(string operation, WriteKind kind, ReadOnlyMemory<byte> key, byte[]? value, byte[]? expected, CancellationToken cancellationToken, LockFence? fence = null, WriteExpiry expiry = default)
    {
        var session = _sessions.Rent();
        try
        {
            var write = new PendingWrite(kind, key.ToArray(), value, expected, new ClientSession(session.Id, session.NextSequence()), fence, expiry);
            using var retry = NewRetry(operation, cancellationToken);
            return _coalescer is { } coalescer
                ? await ExecuteAsync(retry, key, leaderOnly: true, (write, coalescer), static (endpoint, shard, s, ct) => s.coalescer.WriteAsync(endpoint, s.write.ToRequest(shard), ct)).ConfigureAwait(false)
                : await ExecuteAsync(retry, key, leaderOnly: true, write, static (endpoint, shard, w, ct) => endpoint.WriteAsync(w.ToRequest(shard), ct)).ConfigureAwait(false);
        }
        finally
        {
            _sessions.Return(session);
        }
    }

    /// <summary>A write's payload before routing; the shard and epoch are filled in per attempt.</summary>
    private sealed record PendingWrite(WriteKind Kind, byte[] Key, byte[]? Value, byte[]? Expected, ClientSession Session, LockFence? Fence, WriteExpiry Expiry)
    {
        public WriteRequest ToRequest(ShardDescriptor shard) => new()
        {
            Shard = shard.Id,
            Epoch = shard.Epoch,
            Kind = Kind,
            Key = Key,
            Value = Value,
            Expected = Expected,
            Session = Session,
            Fence = Fence,
            TtlMs = Expiry.TtlMs,
            ExpiresAtMs = Expiry.ExpiresAtMs,
            KeepExpiry = Expiry.Keep,
            ExpireCondition = Expiry.Condition,
        };
    }

    /// <summary>A write's expiry fields: a time to live the leader turns into an absolute expiry, an absolute one, or keep.</summary>
    private readonly record struct WriteExpiry(long? TtlMs, long ExpiresAtMs, bool Keep, ExpireCondition Condition)
    {
        public static WriteExpiry From(KvWriteOptions? options)
        {
            if (options is null || !options.HasExpiry)
            {
                return default;
            }

            int set = (options.TimeToLive is null ? 0 : 1) + (options.ExpiresAt is null ? 0 : 1) + (options.KeepTimeToLive ? 1 : 0);
            if (set > 1)
            {
                throw new ArgumentException("Set at most one of TimeToLive, ExpiresAt and KeepTimeToLive.", nameof(options));
            }

            return options.TimeToLive is { } ttl ? new WriteExpiry(Milliseconds(ttl), 0, false, ExpireCondition.Always)
                : options.ExpiresAt is { } at ? new WriteExpiry(null, UnixMs(at), false, ExpireCondition.Always)
                : new WriteExpiry(null, 0, true, ExpireCondition.Always);
        }

        /// <summary>Whole milliseconds, rounded up so a positive time to live never becomes "expired at once".</summary>
        public static long Milliseconds(TimeSpan ttl) =>
            ttl <= TimeSpan.Zero ? 0 : ttl.Ticks >= long.MaxValue - TimeSpan.TicksPerMillisecond ? long.MaxValue / 2 : (ttl.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;

        /// <summary>Unix ms of an absolute expiry; at least 1, since 0 means none (a time before 1970 is simply past).</summary>
        public static long UnixMs(DateTimeOffset at) => Math.Max(1, at.ToUnixTimeMilliseconds());
    }

    public Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, KvWriteOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        ThrowIfInvalid(_limits.CheckValue(value.Span));
        if (options.Fence is { } fence)
        {
            CheckFence(fence);
        }

        return WriteAsync("Put", WriteKind.Put, key, value.ToArray(), null, cancellationToken, options.Fence, WriteExpiry.From(options));
    }

    public Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default) =>
        PutAsync(key, value, KvWriteOptions.WithTimeToLive(timeToLive), cancellationToken);

    public async Task<bool> CompareAndSwapAsync(ReadOnlyMemory<byte> key, KvExpected expected, byte[]? newValue, KvWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        ThrowIfInvalid(expected.IsPresent ? _limits.CheckValue(expected.Bytes.Span) : null);
        ThrowIfInvalid(newValue is null ? null : _limits.CheckValue(newValue));
        if (options?.Fence is { } fence)
        {
            CheckFence(fence);
        }

        var expiry = WriteExpiry.From(options);
        if (newValue is null && expiry != default)
        {
            throw new ArgumentException("A compare-and-swap that deletes the key cannot set an expiry.", nameof(options));
        }

        var response = await WriteAsync("CompareAndSwap", WriteKind.CompareAndSwap, key, newValue?.ToArray(), expected.IsPresent ? expected.Bytes.ToArray() : null,
            cancellationToken, options?.Fence, expiry).ConfigureAwait(false);
        return response.Succeeded;
    }

    public Task<bool> ExpireAsync(ReadOnlyMemory<byte> key, TimeSpan timeToLive, ExpireCondition condition = ExpireCondition.Always, CancellationToken cancellationToken = default) =>
        ChangeExpiryAsync(key, new WriteExpiry(WriteExpiry.Milliseconds(timeToLive), 0, false, condition), cancellationToken);

    public Task<bool> ExpireAtAsync(ReadOnlyMemory<byte> key, DateTimeOffset expiresAt, ExpireCondition condition = ExpireCondition.Always, CancellationToken cancellationToken = default) =>
        ChangeExpiryAsync(key, new WriteExpiry(null, WriteExpiry.UnixMs(expiresAt), false, condition), cancellationToken);

    public Task<bool> PersistAsync(ReadOnlyMemory<byte> key, ExpireCondition condition = ExpireCondition.Always, CancellationToken cancellationToken = default) =>
        ChangeExpiryAsync(key, new WriteExpiry(null, 0, false, condition), cancellationToken);

    private async Task<bool> ChangeExpiryAsync(ReadOnlyMemory<byte> key, WriteExpiry expiry, CancellationToken cancellationToken)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        if (!Enum.IsDefined(expiry.Condition))
        {
            throw new ArgumentOutOfRangeException(nameof(expiry), expiry.Condition, "Unknown expire condition.");
        }

        var response = await WriteAsync("Expire", WriteKind.Expire, key, null, null, cancellationToken, null, expiry).ConfigureAwait(false);
        return response.Succeeded;
    }
}
