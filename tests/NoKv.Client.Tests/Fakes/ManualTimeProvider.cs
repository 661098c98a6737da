namespace NoKv.Client.Tests.Fakes;

/// <summary>
/// A clock that moves only when a test calls <see cref="Advance"/>. Timers (and so Task.Delay, WaitAsync and
/// CancellationTokenSource timeouts over this provider) fire inside Advance, in due order, on the caller's thread.
/// Timestamps are in TimeSpan ticks. Thread-safe.
/// </summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = new();
    private long _now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _now));

    /// <summary>Armed timers; lets a test wait until the code under test has started the timer it means to fire.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count;
            }
        }
    }

    public override long GetTimestamp() => Interlocked.Read(ref _now);

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) + Elapsed;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock forward by <paramref name="by"/>, firing every timer that falls due on the way.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        long target = Interlocked.Read(ref _now) + by.Ticks;
        while (true)
        {
            ManualTimer? next = null;
            lock (_gate)
            {
                foreach (var timer in _timers)
                {
                    if (timer.Due <= target && (next is null || timer.Due < next.Due))
                    {
                        next = timer;
                    }
                }

                if (next is null)
                {
                    Interlocked.Exchange(ref _now, target);
                    return;
                }

                Interlocked.Exchange(ref _now, Math.Max(Interlocked.Read(ref _now), next.Due));
                next.Rearm();
            }

            next.Fire();
        }
    }

    private void Schedule(ManualTimer timer, bool armed)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
            if (armed)
            {
                _timers.Add(timer);
            }
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private long _period;

        /// <summary>When the timer fires next, in the owner's ticks; read under the owner's lock.</summary>
        public long Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool armed = dueTime != Timeout.InfiniteTimeSpan;
            lock (owner._gate)
            {
                Due = armed ? owner.GetTimestamp() + dueTime.Ticks : long.MaxValue;
                _period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            }

            owner.Schedule(this, armed);
            return true;
        }

        /// <summary>Called under the owner's lock when the timer falls due: re-arms a periodic timer, drops a one-shot.</summary>
        public void Rearm()
        {
            if (_period > 0)
            {
                Due += _period;
            }
            else
            {
                owner._timers.Remove(this);
            }
        }

        public void Fire() => callback(state);

        public void Dispose() => owner.Schedule(this, armed: false);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
