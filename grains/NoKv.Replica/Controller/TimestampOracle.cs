using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;

namespace NoKv.Replica.Controller;

/// <summary>
/// The timestamp oracle: hands out strictly increasing timestamps, one Raft commit per coalesced batch of requests.
/// <para>Each round takes every request queued so far, adds up their counts and moves the persisted high-water mark
/// (row <see cref="ControllerRows.Timestamps"/>) from its last known value to the end of the new range with one
/// compare-and-swap in the controller group. Requests that arrive while a round is in flight wait for the next round,
/// and only a committed swap hands anything out. Why that is enough:</para>
/// <list type="bullet">
/// <item>Never twice, never backwards: every range handed out was committed as the high-water mark by a swap from
/// the value just below it, so ranges follow the order of the swaps in the log, across leader changes, crashes,
/// and any number of oracles (one per silo, duplicate activations): a swap against a stale value fails and the
/// oracle re-reads.</item>
/// <item>Real-time order: a request is served only by a swap proposed after it arrived, so that swap commits after
/// every range handed out before the request was made, and its range lies above all of them.</item>
/// </list>
/// No leader lease is involved: nothing is served from memory that the group has not committed, so a new controller
/// leader never has to wait anything out. The cost is one commit per round, amortized over every request of the round.
/// <para>The physical part: a range starts at max(high-water + 1, wall ms &lt;&lt; <see cref="TimestampBatch.LogicalBits"/>),
/// so timestamps track the clock of whichever oracle proposes; a clock behind the mark only slows the physical part.</para>
/// Threading: one logical thread at a time (a grain's turns, the simulator's loop).
/// </summary>
public sealed class TimestampOracle
{
    private readonly ControllerGroupClient _group;
    private readonly List<(int Count, TaskCompletionSource<TimestampBatch> Done)> _queued = new();
    private bool _running;

    // The row as this oracle last saw it committed (null = unknown: read before swapping).
    private byte[]? _knownRow;
    private bool _known;
    private long _knownHighWater;

    public TimestampOracle(ControllerGroupClient group) => _group = group;

    /// <summary>Commits made (successful swaps), for tests and benchmarks.</summary>
    public long Rounds { get; private set; }

    /// <summary>Swaps that lost to another oracle and had to re-read.</summary>
    public long Conflicts { get; private set; }

    /// <summary>Allocates <paramref name="count"/> consecutive timestamps.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not in 1..<see cref="TimestampBatch.MaxCount"/>.</exception>
    /// <exception cref="NoKvTimeoutException">The controller group did not commit within its timeout.</exception>
    public Task<TimestampBatch> GetTimestampsAsync(int count)
    {
        if (count is < 1 or > TimestampBatch.MaxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Ask for 1 to {TimestampBatch.MaxCount} timestamps.");
        }

        var done = new TaskCompletionSource<TimestampBatch>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queued.Add((count, done));
        if (!_running)
        {
            _running = true;
            _ = RunRoundsAsync();
        }

        return done.Task;
    }

    private async Task RunRoundsAsync()
    {
        try
        {
            while (_queued.Count > 0)
            {
                var round = _queued.ToArray();
                _queued.Clear();
                long total = 0;
                foreach (var (count, _) in round)
                {
                    total += count;
                }

                try
                {
                    long first = await CommitRangeAsync(total).ConfigureAwait(true);
                    foreach (var (count, done) in round)
                    {
                        done.TrySetResult(new TimestampBatch(first, count));
                        first += count;
                    }
                }
                catch (Exception e)
                {
                    foreach (var (_, done) in round)
                    {
                        done.TrySetException(e);
                    }
                }
            }
        }
        finally
        {
            _running = false;
        }
    }

    /// <summary>Commits a new high-water mark <paramref name="total"/> above the current one; returns the range's first.</summary>
    private async Task<long> CommitRangeAsync(long total)
    {
        while (true)
        {
            if (!_known)
            {
                _knownRow = await _group.ReadAsync(ControllerRows.Timestamps).ConfigureAwait(true);
                _knownHighWater = _knownRow is null ? 0 : TimestampOracleRow.Decode(_knownRow);
                _known = true;
            }

            long physical = _group.Transport.WallClockMs << TimestampBatch.LogicalBits;
            long first = Math.Max(checked(_knownHighWater + 1), physical);
            long last = checked(first + total - 1);
            var row = TimestampOracleRow.Encode(last);
            bool swapped;
            try
            {
                swapped = await _group.CompareAndSwapAsync(ControllerRows.Timestamps, _knownRow, row).ConfigureAwait(true);
            }
            catch
            {
                // Outcome unknown: the swap may have applied. Re-read before the next round; this range is never
                // handed out, so at worst it is skipped.
                _known = false;
                throw;
            }

            if (swapped)
            {
                Rounds++;
                _knownRow = row;
                _knownHighWater = last;
                return first;
            }

            Conflicts++;
            _known = false;
        }
    }
}
