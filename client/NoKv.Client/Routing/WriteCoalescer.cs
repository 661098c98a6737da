using System.Collections.Concurrent;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Routing;

/// <summary>
/// Group commit from the client side: concurrent write attempts to one shard replica share calls. Each replica
/// (shard, store, route kind) has a lane that lets at most <c>maxInFlight</c> calls out at once; a write that finds
/// the lane full waits in its queue, and when a call returns the queued writes leave together in one
/// <see cref="ReplicaEndpoint.WriteBatchAsync"/> (up to <c>maxBatch</c> writes or about 1 MiB). A lone write goes
/// out at once as a plain call, so batching adds no latency when there is no queue, and under load the batch size
/// follows the load: one message, one scheduling turn on the replica and one Raft round for many writes.
/// <para>Each write is still its own request (own session sequence, shard epoch, answer, error); the batch only
/// shares the transport. A failed batch call fails every write in it with the call's exception, which each write's
/// retry loop handles as if its own call had failed. Writes in one batch are proposed in queue order, which is the
/// order their attempts arrived here.</para>
/// <para>A queued write whose attempt was cancelled (its attempt timeout or its caller gave up) is dropped at
/// dispatch and never sent. Thread-safe.</para>
/// </summary>
internal sealed class WriteCoalescer
{
    /// <summary>A batch stops growing once its keys and values reach this size (the first write always goes).</summary>
    internal const int MaxBatchBytes = 1 << 20;

    private readonly int _maxBatch;
    private readonly int _maxInFlight;
    private readonly TimeSpan _slotHold;
    private readonly ConcurrentDictionary<LaneKey, Lane> _lanes = new();
    private long _batches;
    private long _batchedWrites;

    /// <param name="slotHold">
    /// Longest time a call keeps its lane slot (the client's attempt timeout): a call to a frozen or partitioned
    /// silo may not end until Orleans' response timeout, and its writes' attempts have given up on it long before,
    /// so the lane must not wait for it either, or writes to that replica would queue behind it after it came back.
    /// </param>
    public WriteCoalescer(int maxBatch, int maxInFlight, TimeSpan slotHold)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(slotHold, TimeSpan.Zero);
        _maxBatch = maxBatch;
        _maxInFlight = maxInFlight;
        _slotHold = slotHold;
    }

    /// <summary>Batched calls sent so far (each carrying two or more writes); for diagnostics and tests.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Writes sent in batched calls so far; for diagnostics and tests.</summary>
    public long BatchedWrites => Interlocked.Read(ref _batchedWrites);

    /// <summary>Sends <paramref name="request"/> to the replica behind <paramref name="endpoint"/>, alone or in a batch.</summary>
    public Task<WriteResponse> WriteAsync(ReplicaEndpoint endpoint, WriteRequest request, CancellationToken cancellationToken)
    {
        var lane = _lanes.GetOrAdd(new LaneKey(request.Shard, endpoint.Store, endpoint.Service is not null), static (_, owner) => new Lane(owner), this);
        return lane.WriteAsync(endpoint, request, cancellationToken);
    }

    private readonly record struct LaneKey(ShardId Shard, StoreId Store, bool Direct);

    private sealed class Queued(ReplicaEndpoint endpoint, WriteRequest request, CancellationToken cancellationToken)
    {
        public ReplicaEndpoint Endpoint { get; } = endpoint;

        public WriteRequest Request { get; } = request;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        // Answered off the thread that completes the batch, so one write's continuation (often the next request of the
        // same caller) never runs inside another's completion loop.
        public TaskCompletionSource<WriteResponse> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lane(WriteCoalescer owner)
    {
        private readonly Queue<Queued> _queue = new();
        private int _inFlight;

        public Task<WriteResponse> WriteAsync(ReplicaEndpoint endpoint, WriteRequest request, CancellationToken cancellationToken)
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

            Task<WriteResponse> call;
            try
            {
                call = endpoint.WriteAsync(request, cancellationToken);
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
                    bytes += next.Request.Key.Length + (next.Request.Value?.Length ?? 0) + (next.Request.Expected?.Length ?? 0);
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
                task = Forward(only, only.Endpoint.WriteAsync(only.Request, only.CancellationToken));
            }
            else
            {
                var requests = new WriteRequest[batch.Count];
                for (int i = 0; i < requests.Length; i++)
                {
                    requests[i] = batch[i].Request;
                }

                Interlocked.Increment(ref owner._batches);
                Interlocked.Add(ref owner._batchedWrites, requests.Length);

                // The newest route: an older queued write may carry a route that was dropped since.
                task = Complete(batch, batch[^1].Endpoint.WriteBatchAsync(requests));
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
                // The call's outcome belongs to its writes (they observe it themselves); here it only ends the slot.
            }

            Release();
        }

        private static async Task Forward(Queued queued, Task<WriteResponse> call)
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

        private static async Task Complete(List<Queued> batch, Task<WriteResponse[]> call)
        {
            WriteResponse[] answers;
            try
            {
                answers = await call.ConfigureAwait(false);
                if (answers is null || answers.Length != batch.Count)
                {
                    throw new InvalidOperationException($"a write batch of {batch.Count} got {answers?.Length ?? 0} answers");
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
                    batch[i].Answer.TrySetException(new InvalidOperationException($"write batch entry {i} got no answer"));
                }
            }
        }
    }
}
