using System.Diagnostics;

namespace NoKv.Storage.Db;

/// <summary>
/// How long the write path's log syncs take, for a slow-disk detector above the engine (a store that sheds Raft
/// leadership while its disk is slow, docs/replica.md "Slow disks"). Records the sync in flight (when it started) and
/// the slowest sync completed since the last <see cref="TakeSlowest"/>; nothing is kept per sync, so it costs two
/// timestamps and a few interlocked operations per group commit.
/// <para>Thread-safe. Log syncs of the write path are serial (one group leader at a time), so one in-flight slot suffices.</para>
/// </summary>
public sealed class SyncLatency
{
    // Stopwatch timestamp of the sync in flight; 0 when none is.
    private long _inFlightSince;
    private long _slowestTicks;
    private long _completed;

    /// <summary>Syncs completed so far.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>How long the sync in flight has run as of <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp); zero when none is.</summary>
    public TimeSpan InFlight(long now)
    {
        long since = Interlocked.Read(ref _inFlightSince);
        return since == 0 || now <= since ? TimeSpan.Zero : Stopwatch.GetElapsedTime(since, now);
    }

    /// <summary>The slowest sync completed since the last call (zero if none), and starts a new period.</summary>
    public TimeSpan TakeSlowest() => TimeSpan.FromSeconds(Interlocked.Exchange(ref _slowestTicks, 0) / (double)Stopwatch.Frequency);

    /// <summary>A sync starts; returns its start for <see cref="Finished"/>.</summary>
    internal long Started()
    {
        long now = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _inFlightSince, now);
        return now;
    }

    /// <summary>The sync that <see cref="Started"/> returned <paramref name="start"/> for ended (successfully or not).</summary>
    internal void Finished(long start)
    {
        long took = Stopwatch.GetTimestamp() - start;
        Interlocked.CompareExchange(ref _inFlightSince, 0, start);
        Interlocked.Increment(ref _completed);
        long seen = Interlocked.Read(ref _slowestTicks);
        while (took > seen)
        {
            long was = Interlocked.CompareExchange(ref _slowestTicks, took, seen);
            if (was == seen)
            {
                break;
            }

            seen = was;
        }
    }
}
