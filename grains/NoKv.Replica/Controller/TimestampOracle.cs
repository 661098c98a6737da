using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;

namespace NoKv.Replica.Controller;

/// <summary>
/// A silo's front-end to the timestamp oracle: coalesces concurrent requests into one call to the controller group's
/// leader, which serves timestamps from a committed window under its lease (<c>ReplicaCore.TimestampsAsync</c>,
/// docs/controller.md). Requests that arrive while a call is in flight wait for the next call, so a request is only
/// ever served by a call made after it arrived: that, and the leader's guarantee for each call, keep real-time order.
/// Threading: one logical thread at a time (a grain's turns, the simulator's loop).
/// </summary>
public sealed class TimestampOracle
{
    private readonly ControllerGroupClient _group;
    private readonly List<(int Count, TaskCompletionSource<TimestampBatch> Done)> _queued = new();
    private bool _running;

    public TimestampOracle(ControllerGroupClient group) => _group = group;

    /// <summary>Calls made to the leader, for tests and benchmarks.</summary>
    public long Rounds { get; private set; }

    /// <summary>Allocates <paramref name="count"/> consecutive timestamps.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not in 1..<see cref="TimestampBatch.MaxCount"/>.</exception>
    /// <exception cref="NoKvTimeoutException">No controller leader served them within the group client's timeout.</exception>
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
                int take = 0;
                int total = 0;
                while (take < _queued.Count && total + _queued[take].Count <= TimestampBatch.MaxCount)
                {
                    total += _queued[take].Count;
                    take++;
                }

                var round = _queued.GetRange(0, take);
                _queued.RemoveRange(0, take);
                try
                {
                    Rounds++;
                    var batch = await _group.TimestampsAsync(total).ConfigureAwait(true);
                    if (batch.Count != total || batch.First <= 0)
                    {
                        throw new InvalidOperationException($"The controller leader answered {batch.Count} timestamps from {batch.First} to a request for {total}.");
                    }

                    long first = batch.First;
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
}
