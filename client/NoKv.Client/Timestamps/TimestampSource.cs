using Microsoft.Extensions.Options;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;

namespace NoKv.Client.Timestamps;

/// <summary>
/// Batches concurrent callers into one oracle request: while a request is in flight, new callers queue, and the next
/// request asks for as many timestamps as there are callers waiting. A caller is only ever served by a request sent
/// after it arrived, which is what keeps real-time order (a timestamp from a request already in flight could be
/// below one another client obtained meanwhile). A failed request (a gateway that died) is retried with backoff
/// until <see cref="NoKvClientOptions.OperationTimeout"/>, each attempt bounded (see <see cref="AttemptTimeoutFactor"/>);
/// a retry is safe, the oracle at worst skips a range.
/// </summary>
public sealed class TimestampSource : ITimestampSource
{
    /// <summary>
    /// One attempt may take this many client attempt timeouts: the silo's front-end itself retries across a controller
    /// election (a dead leader costs it one controller attempt), which a single KV attempt never has to cover. Beyond
    /// that the attempt is abandoned and sent again, which the oracle allows (it at worst skips a range): a request
    /// sent through a gateway that just died is otherwise awaited until the Orleans response timeout.
    /// </summary>
    private const int AttemptTimeoutFactor = 4;

    private readonly ITimestampOracleGrain _oracle;
    private readonly NoKvClientOptions _options;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly List<TaskCompletionSource<long>> _waiting = new();
    private bool _inFlight;

    public TimestampSource(IGrainFactory grains, IOptions<NoKvClientOptions> options)
        : this(grains.GetGrain<ITimestampOracleGrain>(ShardMapGrainKeys.Cluster), options.Value, TimeProvider.System)
    {
    }

    internal TimestampSource(ITimestampOracleGrain oracle, NoKvClientOptions options, TimeProvider time)
    {
        _oracle = oracle;
        _options = options;
        _time = time;
    }

    public ValueTask<long> GetTimestampAsync(CancellationToken cancellationToken = default)
    {
        var waiter = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_gate)
        {
            _waiting.Add(waiter);
            start = !_inFlight;
            _inFlight = true;
        }

        if (start)
        {
            _ = Task.Run(RunAsync, CancellationToken.None);
        }

        return new ValueTask<long>(cancellationToken.CanBeCanceled ? waiter.Task.WaitAsync(cancellationToken) : waiter.Task);
    }

    private async Task RunAsync()
    {
        while (true)
        {
            TaskCompletionSource<long>[] round;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _inFlight = false;
                    return;
                }

                int take = Math.Min(_waiting.Count, TimestampBatch.MaxCount);
                round = _waiting.GetRange(0, take).ToArray();
                _waiting.RemoveRange(0, take);
            }

            try
            {
                var batch = await RequestAsync(round.Length).ConfigureAwait(false);
                for (int i = 0; i < round.Length; i++)
                {
                    round[i].TrySetResult(batch.First + i);
                }
            }
            catch (Exception e)
            {
                foreach (var waiter in round)
                {
                    waiter.TrySetException(e);
                }
            }
        }
    }

    private async Task<TimestampBatch> RequestAsync(int count)
    {
        long started = _time.GetTimestamp();
        var backoff = _options.InitialBackoff;
        int attempts = 0;
        while (true)
        {
            attempts++;
            try
            {
                var remaining = _options.OperationTimeout - _time.GetElapsedTime(started);
                var attempt = TimeSpan.FromTicks(Math.Max(_options.AttemptTimeout.Ticks, Math.Min(remaining.Ticks, _options.AttemptTimeout.Ticks * AttemptTimeoutFactor)));
                var batch = await _oracle.GetTimestampsAsync(count).WaitAsync(attempt, _time).ConfigureAwait(false);
                if (batch.Count != count || batch.First <= 0)
                {
                    throw new InvalidOperationException($"The timestamp oracle answered {batch.Count} timestamps from {batch.First} to a request for {count}.");
                }

                return batch;
            }
            catch (Exception e) when (e is not (ArgumentException or InvalidOperationException or NoKvException { IsRetryable: false }))
            {
                var elapsed = _time.GetElapsedTime(started);
                if (elapsed + backoff >= _options.OperationTimeout)
                {
                    throw e as NoKvTimeoutException ?? new NoKvTimeoutException("get timestamps", elapsed, attempts, NoKvErrorCode.StoreUnavailable, e.Message);
                }

                await Task.Delay(backoff, _time).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
            }
        }
    }
}
