using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Locks;

namespace NoKv.Client.Locks;

/// <summary>
/// One acquisition of a lock: its owner id, fencing token and lease as this client times it. The lease is counted
/// from when the request that granted or last renewed it was sent, on this client's monotonic clock, and ends early
/// by the client's drift rate and safety margin (<see cref="NoKvClientOptions.LockClockDriftRate"/>,
/// <see cref="NoKvClientOptions.LockSafetyMargin"/>); the lock's leader, whose clock decides, started it later and
/// ends it later. Once that conservative lease has run out the handle is lost for good, even if the leader would
/// still have accepted a renewal: there was a moment in which this client could not prove it held the lock, so work
/// done under it must stop and start over under a new acquisition. <see cref="LostToken"/> signals that moment.
/// Thread-safe; disposing releases the lock (best effort).
/// </summary>
public sealed class LockHandle : IAsyncDisposable
{
    private const int Held = 0;
    private const int Released = 1;
    private const int Lost = 2;

    private readonly KvStore _store;
    private readonly TimeProvider _time;
    private readonly long _leaseTicks;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly ITimer _lapse;
    private long _heldUntil;
    private long _renewedAt;
    private int _state; // Held (or attached and not yet renewed), Released, Lost; changed under _gate
    private Task? _renewal;

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
        _renewedAt = sentAt ?? long.MinValue;
        _lapse = time.CreateTimer(static state => ((LockHandle)state!).OnLapse(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (sentAt is not null)
        {
            ArmLapse();
        }
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
    public bool IsHeld => _state == Held && _time.GetTimestamp() < Volatile.Read(ref _heldUntil);

    /// <summary>
    /// Cancelled once this client can no longer count on holding the lock: its conservative lease ran out (no renewal
    /// succeeded in time), a renewal was refused, or the handle was released or disposed. Pass it to the work done
    /// under the lock, so that the work stops before another holder can be granted the lock.
    /// </summary>
    public CancellationToken LostToken => _lost.Token;

    /// <summary>True when the lease is renewed in the background (<see cref="LockRenewal.Automatic"/>).</summary>
    public bool RenewsAutomatically => _renewal is not null;

    /// <summary>How much of the lease is left by this client's conservative clock (zero when not held).</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (_state != Held)
            {
                return TimeSpan.Zero;
            }

            long left = Volatile.Read(ref _heldUntil) - _time.GetTimestamp();
            return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(left / (double)_time.TimestampFrequency);
        }
    }

    /// <summary>Restarts the lease (from when this call is sent).</summary>
    /// <exception cref="LockLostException">
    /// The lease had already run out on the lock's leader or by this client's clock, or the handle was released.
    /// </exception>
    public async Task RenewAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotHeld();
        long sent = _time.GetTimestamp();
        var response = await _store.LockCallAsync("LockRenew", LockRequestKind.Renew, Name, Owner, Token, 0, false, 0, cancellationToken).ConfigureAwait(false);
        if (response.Outcome != LockOutcome.Renewed)
        {
            MarkLost();
            throw new LockLostException(Name, Token, "its lease ran out on the lock's leader");
        }

        lock (_gate)
        {
            if (_state == Held && (_heldUntil == long.MinValue || _time.GetTimestamp() < _heldUntil))
            {
                _heldUntil = Math.Max(_heldUntil, sent + _leaseTicks);
                _renewedAt = Math.Max(_renewedAt, sent);
                ArmLapse();
                return;
            }
        }

        // The lease lapsed (by this client's clock) while the renewal was on its way, or the handle was released.
        ThrowIfNotHeld();
        MarkLost();
        throw new LockLostException(Name, Token, "its lease ran out on this client's clock before the renewal came back");
    }

    /// <summary>
    /// Gives the lock up (the next waiter gets it at once); <see cref="LostToken"/> is cancelled first, so work under
    /// the lock stops before anyone else can be granted it. False if the lock's leader no longer counted this
    /// handle as the holder (its lease expired there, or it was released before).
    /// </summary>
    public async Task<bool> ReleaseAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _state = Released;
        }

        End();
        var response = await _store.LockCallAsync("LockRelease", LockRequestKind.Release, Name, Owner, Token, 0, false, 0, cancellationToken).ConfigureAwait(false);
        return response.Outcome == LockOutcome.Released;
    }

    /// <summary>Stops automatic renewal (if on) and releases the lock, best effort; a lost handle is released too, in case only this client's clock ended it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_state == Released)
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

        if (_renewal is { } renewal)
        {
            await renewal.ConfigureAwait(false);
        }
    }

    /// <summary>Starts renewing in the background until the handle is released, disposed or lost (called once, by the acquire).</summary>
    internal void StartRenewal() => _renewal = Task.Run(RenewLoopAsync);

    /// <summary>
    /// Renews once a third of the conservative lease has passed since the last renewal was sent, so two more tries fit
    /// before it runs out; a failed renewal is tried again shortly. Ends when <see cref="LostToken"/> fires (the lease
    /// ran out, a renewal was refused, or the handle was released); a lost lock is then released so the next waiter
    /// need not wait for the leader to expire it.
    /// </summary>
    private async Task RenewLoopAsync()
    {
        var token = _lost.Token;
        long retryTicks = Math.Max(1, _leaseTicks / 20);
        try
        {
            while (!token.IsCancellationRequested)
            {
                long due = Volatile.Read(ref _renewedAt) + (_leaseTicks / 3);
                long wait = due - _time.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(Ticks(wait), _time, token).ConfigureAwait(false);
                }

                try
                {
                    await RenewAsync(token).ConfigureAwait(false);
                }
                catch (LockLostException)
                {
                    break;
                }
                catch (NoKvException)
                {
                    // No answer within the operation's deadline (no leader, a partition): try again while the lease lasts.
                    await Task.Delay(Ticks(retryTicks), _time, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Released, disposed or lost.
        }

        if (_state == Lost)
        {
            try
            {
                await _store.LockCallAsync("LockRelease", LockRequestKind.Release, Name, Owner, Token, 0, false, 0, CancellationToken.None).ConfigureAwait(false);
            }
            catch (NoKvException)
            {
                // Best effort: the leader expires the lease anyway.
            }
        }
    }

    private TimeSpan Ticks(long ticks) => TimeSpan.FromSeconds(ticks / (double)_time.TimestampFrequency);

    private void ThrowIfNotHeld()
    {
        switch (_state)
        {
            case Released:
                throw new LockLostException(Name, Token, "it was released");
            case Lost:
                throw new LockLostException(Name, Token, "its lease ran out (or a renewal was refused) before");
        }

        long until = Volatile.Read(ref _heldUntil);
        if (until != long.MinValue && _time.GetTimestamp() >= until)
        {
            MarkLost();
            throw new LockLostException(Name, Token, "its lease ran out on this client's clock");
        }
    }

    /// <summary>Arms the lapse timer for the current end of the lease; called under <see cref="_gate"/> or before the handle is shared.</summary>
    private void ArmLapse()
    {
        long left = _heldUntil - _time.GetTimestamp();
        _lapse.Change(left <= 0 ? TimeSpan.Zero : Ticks(left), Timeout.InfiniteTimeSpan);
    }

    private void OnLapse()
    {
        lock (_gate)
        {
            if (_state != Held)
            {
                return;
            }

            if (_time.GetTimestamp() < _heldUntil)
            {
                // A renewal moved the end while this callback was on its way.
                ArmLapse();
                return;
            }
        }

        MarkLost();
    }

    private void MarkLost()
    {
        lock (_gate)
        {
            if (_state != Held)
            {
                return;
            }

            _state = Lost;
        }

        End();
    }

    private void End()
    {
        _lapse.Dispose();
        _lost.Cancel();
    }
}
