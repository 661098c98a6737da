using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Locks;
using NoKv.Client.Locks;

namespace NoKv.Client;

/// <summary>The lock service client (<see cref="ILockService"/>), over the same routing and retries as the key-value calls.</summary>
internal sealed partial class KvStore : ILockService
{
    public Task<LockHandle> AcquireAsync(string name, TimeSpan lease, TimeSpan waitTimeout, CancellationToken cancellationToken = default) =>
        AcquireAsync(name, lease, waitTimeout, LockRenewal.Manual, cancellationToken);

    public async Task<LockHandle> AcquireAsync(string name, TimeSpan lease, TimeSpan waitTimeout, LockRenewal renewal, CancellationToken cancellationToken = default)
    {
        CheckLockName(name);
        long leaseMs = (long)lease.TotalMilliseconds;
        if (leaseMs is < 100 or > 24L * 60 * 60 * 1000)
        {
            throw new InvalidLockRequestException($"lease {lease} is outside 100 ms to one day");
        }

        if (!Enum.IsDefined(renewal))
        {
            throw new InvalidLockRequestException($"renewal {renewal} is not a LockRenewal");
        }

        if (waitTimeout < TimeSpan.Zero)
        {
            throw new InvalidLockRequestException($"wait timeout {waitTimeout} is negative");
        }

        var owner = Guid.NewGuid();
        long started = _time.GetTimestamp();
        bool wait = waitTimeout > TimeSpan.Zero;
        try
        {
            while (true)
            {
                var left = waitTimeout - _time.GetElapsedTime(started);
                long pollMs = wait ? (long)Math.Clamp(left.TotalMilliseconds, 0, _options.AttemptTimeout.TotalMilliseconds / 2) : 0;

                // The lease is timed from before the request leaves: the leader starts it no earlier than it receives it.
                long sent = _time.GetTimestamp();
                var response = await LockCallAsync("LockAcquire", LockRequestKind.Acquire, name, owner, 0, leaseMs, wait, pollMs, cancellationToken).ConfigureAwait(false);
                switch (response.Outcome)
                {
                    case LockOutcome.Granted:
                        var handle = new LockHandle(this, _time, name, owner, response.Token, lease, sent);
                        if (renewal == LockRenewal.Automatic)
                        {
                            handle.StartRenewal();
                        }

                        return handle;
                    case LockOutcome.Queued when _time.GetElapsedTime(started) < waitTimeout:
                        continue;
                    default:
                        await AbandonAsync(name, owner).ConfigureAwait(false);
                        throw new LockNotAcquiredException(name, wait ? $"still held by another owner after {waitTimeout}" : "held by another owner");
                }
            }
        }
        catch (Exception e) when (e is not LockNotAcquiredException and not InvalidLockRequestException)
        {
            // Cancelled or failed while possibly queued or even granted: leave the queue (or give the lock back) so
            // nobody waits a lease on an acquisition nobody will use.
            await AbandonAsync(name, owner).ConfigureAwait(false);
            throw;
        }
    }

    public async Task<LockStatus> GetStatusAsync(string name, CancellationToken cancellationToken = default)
    {
        CheckLockName(name);
        var response = await LockCallAsync("LockStatus", LockRequestKind.Status, name, Guid.Empty, 0, 0, false, 0, cancellationToken).ConfigureAwait(false);
        return new LockStatus(name, response.Holder, response.Token, response.LastToken, TimeSpan.FromMilliseconds(response.LeaseMs), response.Waiters);
    }

    public LockHandle Attach(string name, Guid owner, long token, TimeSpan lease)
    {
        CheckLockName(name);
        if (owner == Guid.Empty || token <= 0)
        {
            throw new InvalidLockRequestException("an attached lock needs its owner id and a granted token");
        }

        return new LockHandle(this, _time, name, owner, token, lease, null);
    }

    /// <summary>The lease as this client may count on it, in timestamp ticks: shortened by the drift rate and the margin.</summary>
    internal long SafeLeaseTicks(TimeSpan lease, TimeProvider time)
    {
        double seconds = (lease.TotalSeconds * (1 - _options.LockClockDriftRate)) - _options.LockSafetyMargin.TotalSeconds;
        return seconds <= 0 ? 0 : (long)(seconds * time.TimestampFrequency);
    }

    /// <summary>One lock request, routed by the lock's name like a key and retried like a write until its deadline.</summary>
    internal async Task<LockResponse> LockCallAsync(string operation, LockRequestKind kind, string name, Guid owner, long token, long leaseMs, bool wait, long pollMs, CancellationToken cancellationToken)
    {
        var call = new PendingLock(kind, Encoding.UTF8.GetBytes(name), owner, token, leaseMs, wait, pollMs);
        using var retry = NewRetry(operation, cancellationToken);
        return await ExecuteAsync(retry, call.Name, leaderOnly: true, call, static (endpoint, shard, c, ct) => endpoint.LockAsync(new LockRequest
        {
            Shard = shard.Id,
            Epoch = shard.Epoch,
            Kind = c.Kind,
            Name = c.Name,
            Owner = c.Owner,
            Token = c.Token,
            LeaseMs = c.LeaseMs,
            Wait = c.Wait,
            PollMs = c.PollMs,
        }, ct)).ConfigureAwait(false);
    }

    private async Task AbandonAsync(string name, Guid owner)
    {
        try
        {
            await LockCallAsync("LockRelease", LockRequestKind.Release, name, owner, 0, 0, false, 0, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NoKvException)
        {
            // Best effort: the leader drops a silent waiter, and a lease nobody renews runs out.
        }
    }

    private void CheckLockName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ThrowIfInvalid(_limits.CheckKey(Encoding.UTF8.GetBytes(name)));
    }

    private sealed record PendingLock(LockRequestKind Kind, byte[] Name, Guid Owner, long Token, long LeaseMs, bool Wait, long PollMs);
}
