using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Locks;

namespace NoKv.Client.Locks;

/// <summary>
/// One acquisition of a lock: its owner id, fencing token and lease as this client times it. The lease is counted
/// from when the request that granted or last renewed it was sent, on this client's monotonic clock, and ends early
/// by the client's drift rate and safety margin (<see cref="NoKvClientOptions.LockClockDriftRate"/>,
/// <see cref="NoKvClientOptions.LockSafetyMargin"/>); the lock's leader, whose clock decides, started it later and
/// ends it later. Thread-safe; disposing releases the lock (best effort).
/// </summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly KvStore _store;
    private readonly TimeProvider _time;
    private readonly long _leaseTicks;
    private long _heldUntil;
    private volatile int _state; // 0 held (or attached), 1 released, 2 lost

    internal LockHandle(KvStore store, TimeProvider time, string name, Guid owner, long token, TimeSpan lease, long? sentAt)
    {
        _store = store;
        _time = time;
        Name = name;
        Owner = owner;
        Token = token;
        Lease = lease;
        Fence = new LockFence(Encoding.UTF8.GetBytes(name), token);
        _leaseTicks = store.SafeLeaseTicks(lease, time);
        _heldUntil = sentAt is { } sent ? sent + _leaseTicks : long.MinValue;
    }

    public string Name { get; }

    /// <summary>This acquisition's owner id (random, never reused).</summary>
    public Guid Owner { get; }

    /// <summary>The fencing token: strictly greater than every token granted for this lock before.</summary>
    public long Token { get; }

    public TimeSpan Lease { get; }

    /// <summary>The fence to pass to writes made under the lock.</summary>
    public LockFence Fence { get; }

    /// <summary>True while the lease, as this client conservatively times it, has not ended and the lock was not released or lost.</summary>
    public bool IsHeld => _state == 0 && _time.GetTimestamp() < Volatile.Read(ref _heldUntil);

    /// <summary>How much of the lease is left by this client's conservative clock (zero when not held).</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (_state != 0)
            {
                return TimeSpan.Zero;
            }

            long left = Volatile.Read(ref _heldUntil) - _time.GetTimestamp();
            return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(left / (double)_time.TimestampFrequency);
        }
    }

    /// <summary>Restarts the lease (from when this call is sent).</summary>
    /// <exception cref="LockLostException">The lease had already run out on the lock's leader (or the lock was released).</exception>
    public async Task RenewAsync(CancellationToken cancellationToken = default)
    {
        if (_state == 1)
        {
            throw new LockLostException(Name, Token, "it was released");
        }

        long sent = _time.GetTimestamp();
        var response = await _store.LockCallAsync("LockRenew", LockRequestKind.Renew, Name, Owner, Token, 0, false, 0, cancellationToken).ConfigureAwait(false);
        if (response.Outcome != LockOutcome.Renewed)
        {
            _state = 2;
            throw new LockLostException(Name, Token, "its lease ran out on the lock's leader");
        }

        long until = sent + _leaseTicks;
        long current = Volatile.Read(ref _heldUntil);
        while (until > current)
        {
            long seen = Interlocked.CompareExchange(ref _heldUntil, until, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }
    }

    /// <summary>Gives the lock up (the next waiter gets it at once). False if it was no longer held (lost, or released before).</summary>
    public async Task<bool> ReleaseAsync(CancellationToken cancellationToken = default)
    {
        var response = await _store.LockCallAsync("LockRelease", LockRequestKind.Release, Name, Owner, Token, 0, false, 0, cancellationToken).ConfigureAwait(false);
        _state = 1;
        return response.Outcome == LockOutcome.Released;
    }

    public async ValueTask DisposeAsync()
    {
        if (_state != 0)
        {
            return;
        }

        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        catch (NoKvException)
        {
            // Best effort: the lease ends the hold anyway.
        }
    }
}
