using System.Collections.Concurrent;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Routing;

/// <summary>
/// Group commit from the client side: concurrent request attempts to one shard replica share calls. Each replica
/// (shard, store, route kind) has a lane that lets at most <c>maxInFlight</c> calls out at once; a request that finds
/// the lane full waits in its queue, and when a call returns the queued requests leave together in one batched call
/// (<see cref="SendBatchAsync"/>, up to <c>maxBatch</c> requests or about 1 MiB). A lone request goes out at once as
/// a plain call, so batching adds no latency when there is no queue, and under load the batch size follows the load:
/// one message, one scheduling turn on the replica and one Raft round for many requests.
/// <para>Each request is still its own (own session sequence or transaction, shard epoch, answer, error); the batch
/// only shares the transport. A failed batch call fails every request in it with the call's exception, which each
/// request's retry loop handles as if its own call had failed. Requests in one batch reach the replica in queue
/// order, which is the order their attempts arrived here; callers batch only requests that are independent.</para>
/// <para>A queued request whose attempt was cancelled (its attempt timeout or its caller gave up) is dropped at
/// dispatch and never sent. Thread-safe.</para>
/// </summary>
internal abstract class ReplicaCallCoalescer<TRequest, TResponse>
    where TRequest : class
    where TResponse : class
{
    /// <summary>A batch stops growing once its keys and values reach this size (the first request always goes).</summary>
    internal const int MaxBatchBytes = 1 << 20;

    private readonly int _maxBatch;
    private readonly int _maxInFlight;
    private readonly TimeSpan _slotHold;
    private readonly ConcurrentDictionary<LaneKey, Lane> _lanes = new();
    private long _batches;
    private long _batchedRequests;

    /// <param name="slotHold">
    /// Longest time a call keeps its lane slot (the client's attempt timeout): a call to a frozen or partitioned
    /// silo may not end until Orleans' response timeout, and its writes' attempts have given up on it long before,
    /// so the lane must not wait for it either, or writes to that replica would queue behind it after it came back.
    /// </param>
    protected ReplicaCallCoalescer(int maxBatch, int maxInFlight, TimeSpan slotHold)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(slotHold, TimeSpan.Zero);
        _maxBatch = maxBatch;
        _maxInFlight = maxInFlight;
        _slotHold = slotHold;
    }

    /// <summary>Batched calls sent so far (each carrying two or more requests); for diagnostics and tests.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Requests sent in batched calls so far; for diagnostics and tests.</summary>
    public long BatchedRequests => Interlocked.Read(ref _batchedRequests);

    /// <summary>Sends <paramref name="request"/> to the replica behind <paramref name="endpoint"/>, alone or in a batch.</summary>
    protected Task<TResponse> SendAsync(ReplicaEndpoint endpoint, TRequest request, CancellationToken cancellationToken)
    {
        var lane = _lanes.GetOrAdd(new LaneKey(ShardOf(request), endpoint.Store, endpoint.Service is not null), static (_, owner) => new Lane(owner), this);
        return lane.SendAsync(endpoint, request, cancellationToken);
    }

    /// <summary>The shard <paramref name="request"/> is for (its lane).</summary>
    protected abstract ShardId ShardOf(TRequest request);

    /// <summary>Bytes of keys and values <paramref name="request"/> carries, to bound a batch's size.</summary>
    protected abstract long SizeOf(TRequest request);

    /// <summary>One request as a plain call.</summary>
    protected abstract Task<TResponse> SendOneAsync(ReplicaEndpoint endpoint, TRequest request, CancellationToken cancellationToken);

    /// <summary>Several requests to one shard in one call, one answer per request in request order.</summary>
    protected abstract Task<TResponse[]> SendBatchAsync(ReplicaEndpoint endpoint, TRequest[] requests);

    private readonly record struct LaneKey(ShardId Shard, StoreId Store, bool Direct);

    private sealed class Queued(ReplicaEndpoint endpoint, TRequest request, CancellationToken cancellationToken)
    {
        public ReplicaEndpoint Endpoint { get; } = endpoint;

        public TRequest Request { get; } = request;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        // Answered off the thread that completes the batch, so one write's continuation (often the next request of the
        // same caller) never runs inside another's completion loop.
        public TaskCompletionSource<TResponse> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lane(ReplicaCallCoalescer<TRequest, TResponse> owner)
    {
        private readonly Queue<Queued> _queue = new();
        private int _inFlight;

        public Task<TResponse> SendAsync(ReplicaEndpoint endpoint, TRequest request, CancellationToken cancellationToken)
        {
            lock (_queue)
            {
                if (_inFlight >= owner._maxInFlight || _queue.Count > 0)
                {
                    var queued = new Queued(endpoint, request, cancellationToken);
                    _queue.Enqueue(queued);
                    return queued.Answer.Task;
                }

                _inFlight++;
            }

            Task<TResponse> call;
            try
            {
                call = owner.SendOneAsync(endpoint, request, cancellationToken);
            }
            catch
            {
                Release();
                throw;
            }

            _ = ReleaseAfterAsync(call);
            return call;
        }

        /// <summary>A call of this lane finished: send what queued behind it as one batch, or free the slot.</summary>
        private void Release()
        {
            List<Queued>? batch = null;
            lock (_queue)
            {
                long bytes = 0;
                while (_queue.Count > 0 && (batch is null || batch.Count < owner._maxBatch && bytes < MaxBatchBytes))
                {
                    var next = _queue.Dequeue();
                    if (next.CancellationToken.IsCancellationRequested)
                    {
                        next.Answer.TrySetCanceled(next.CancellationToken);
                        continue;
                    }

                    (batch ??= new List<Queued>()).Add(next);
                    bytes += owner.SizeOf(next.Request);
                }

                if (batch is null)
                {
                    _inFlight--;
                    return;
                }
            }

            Send(batch);
        }

        private void Send(List<Queued> batch)
        {
            Task task;
            if (batch.Count == 1)
            {
                var only = batch[0];
                task = Forward(only, owner.SendOneAsync(only.Endpoint, only.Request, only.CancellationToken));
            }
            else
            {
                var requests = new TRequest[batch.Count];
                for (int i = 0; i < requests.Length; i++)
                {
                    requests[i] = batch[i].Request;
                }

                Interlocked.Increment(ref owner._batches);
                Interlocked.Add(ref owner._batchedRequests, requests.Length);

                // The newest route: an older queued request may carry a route that was dropped since.
                task = Complete(batch, owner.SendBatchAsync(batch[^1].Endpoint, requests));
            }

            _ = ReleaseAfterAsync(task);
        }

        /// <summary>Frees the call's slot when it ends, or after the slot hold if it does not end by then.</summary>
        private async Task ReleaseAfterAsync(Task call)
        {
            try
            {
                await call.WaitAsync(owner._slotHold).ConfigureAwait(false);
            }
            catch
            {
                // The call's outcome belongs to its requests (they observe it themselves); here it only ends the slot.
            }

            Release();
        }

        private static async Task Forward(Queued queued, Task<TResponse> call)
        {
            try
            {
                queued.Answer.TrySetResult(await call.ConfigureAwait(false));
            }
            catch (OperationCanceledException e)
            {
                queued.Answer.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                queued.Answer.TrySetException(e);
            }
        }

        private static async Task Complete(List<Queued> batch, Task<TResponse[]> call)
        {
            TResponse[] answers;
            try
            {
                answers = await call.ConfigureAwait(false);
                if (answers is null || answers.Length != batch.Count)
                {
                    throw new InvalidOperationException($"a batch of {batch.Count} got {answers?.Length ?? 0} answers");
                }
            }
            catch (Exception e)
            {
                foreach (var queued in batch)
                {
                    queued.Answer.TrySetException(e);
                }

                return;
            }

            for (int i = 0; i < batch.Count; i++)
            {
                if (answers[i] is { } answer)
                {
                    batch[i].Answer.TrySetResult(answer);
                }
                else
                {
                    batch[i].Answer.TrySetException(new InvalidOperationException($"batch entry {i} got no answer"));
                }
            }
        }
    }
}
