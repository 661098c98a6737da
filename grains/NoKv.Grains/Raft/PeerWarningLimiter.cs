namespace NoKv.Grains.Raft;

/// <summary>
/// Lets one warning per peer through per interval and counts the ones it holds back, so a peer that keeps
/// sending what this build cannot read (a batch of a newer wire version during a rolling upgrade) costs one log
/// line per interval, not one per batch or message. Meant to be shared by every replica of a silo (one instance
/// per kind of warning), since the batches of all shards from one peer store are the same condition.
/// Thread-safe.
/// </summary>
public sealed class PeerWarningLimiter
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly Dictionary<long, (long LastWarned, long Suppressed)> _peers = [];
    private readonly Lock _lock = new();

    public PeerWarningLimiter(TimeProvider time, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _time = time;
        _interval = interval;
    }

    /// <summary>
    /// True when a warning about <paramref name="peer"/> should be logged now; then <paramref name="suppressed"/>
    /// is how many were held back since the previous one (to say so in the warning). False: count it and stay quiet.
    /// </summary>
    public bool ShouldWarn(long peer, out long suppressed)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_peers.TryGetValue(peer, out var state) && _time.GetElapsedTime(state.LastWarned, now) < _interval)
            {
                _peers[peer] = (state.LastWarned, state.Suppressed + 1);
                suppressed = 0;
                return false;
            }

            suppressed = state.Suppressed;
            _peers[peer] = (now, 0);
            return true;
        }
    }
}
