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
    private async Task<WriteResponse> WriteAsync(string operation, WriteKind kind, ReadOnlyMemory<byte> key, byte[]? value, byte[]? expected, CancellationToken cancellationToken, LockFence? fence = null)
    {
        var session = _sessions.Rent();
        try
        {
            var write = new PendingWrite(kind, key.ToArray(), value, expected, new ClientSession(session.Id, session.NextSequence()), fence);
            using var retry = NewRetry(operation, cancellationToken);
            return await ExecuteAsync(retry, key, leaderOnly: true, write, static (endpoint, shard, w, ct) => endpoint.WriteAsync(w.ToRequest(shard), ct)).ConfigureAwait(false);
        }
        finally
        {
            _sessions.Return(session);
        }
    }

    /// <summary>A write's payload before routing; the shard and epoch are filled in per attempt.</summary>
    private sealed record PendingWrite(WriteKind Kind, byte[] Key, byte[]? Value, byte[]? Expected, ClientSession Session, LockFence? Fence)
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
        };
    }
}
