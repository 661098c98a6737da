namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// The simulation's clock and agenda: a priority queue of callbacks keyed by (virtual time, sequence).
/// </summary>
/// <remarks>
/// Virtual time only advances when the next event is taken, so a run is a pure function of its seed.
/// The sequence number breaks ties in scheduling order, which keeps same-instant events deterministic
/// (a heap alone is not stable). Single-threaded; callbacks may schedule further events.
/// </remarks>
public sealed class EventScheduler
{
    private readonly PriorityQueue<Action, (long Time, long Sequence)> _queue = new();
    private long _sequence;

    /// <summary>Current virtual time in milliseconds since the start of the run.</summary>
    public long Now { get; private set; }

    public int Pending => _queue.Count;

    /// <summary>Runs <paramref name="action"/> at <c>Now + delay</c>. Precondition: delay &gt;= 0.</summary>
    public void After(long delay, Action action)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(delay);
        _queue.Enqueue(action, (Now + delay, _sequence++));
    }

    /// <summary>
    /// Runs the next event if it is due at or before <paramref name="deadline"/>; otherwise moves the
    /// clock to the deadline and returns false.
    /// </summary>
    public bool RunNext(long deadline)
    {
        if (!_queue.TryPeek(out _, out var key) || key.Time > deadline)
        {
            Now = Math.Max(Now, deadline);
            return false;
        }

        var action = _queue.Dequeue();
        Now = key.Time;
        action();
        return true;
    }
}
