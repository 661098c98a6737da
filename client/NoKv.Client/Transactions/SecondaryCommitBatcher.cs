using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;

namespace NoKv.Client.Transactions;

/// <summary>
/// The secondary commits of this client's transactions, sent per shard with at most one call in flight: a commit that
/// arrives while its shard's call is out waits for it and leaves with every commit queued meanwhile in one
/// <see cref="TxnOp.CommitBatch"/> request, which the leader proposes in one Raft round. A lone commit goes at once as
/// a plain <see cref="TxnOp.Commit"/>. Secondary commits wait for nobody (their transactions are committed; a lock left
/// behind is rolled forward by its readers), so waiting for the call ahead costs no transaction any latency, while
/// under load most of them stop costing a message of their own (docs/transactions.md, "Secondary commits").
/// <para>Thread-safe: every lane is guarded by one lock, held only to queue or take commits.</para>
/// </summary>
internal sealed class SecondaryCommitBatcher
{
    /// <summary>Most commits per call; the rest leave with the next one.</summary>
    private const int MaxBatch = 128;

    private readonly KvStore _store;
    private readonly object _gate = new();
    private readonly Dictionary<ShardId, Lane> _lanes = new();

    public SecondaryCommitBatcher(KvStore store) => _store = store;

    /// <summary>
    /// Commits <paramref name="keys"/> (all in shard <paramref name="shard"/> of the map the caller grouped them by) of
    /// the committed transaction <paramref name="startTs"/> at <paramref name="commitTs"/>. Completes when the call
    /// that carried it was answered; fails as that call failed (<see cref="ShardMapChangedException"/>: regroup).
    /// </summary>
    public Task CommitAsync(ShardId shard, long startTs, long commitTs, byte[][] keys, CancellationToken cancellationToken)
    {
        var item = new Item(startTs, commitTs, keys, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        Lane? start = null;
        lock (_gate)
        {
            if (!_lanes.TryGetValue(shard, out var lane))
            {
                _lanes[shard] = lane = new Lane();
            }

            lane.Queue.Add(item);
            if (!lane.Sending)
            {
                lane.Sending = true;
                start = lane;
            }
        }

        if (start is not null)
        {
            _ = DrainAsync(start);
        }

        return cancellationToken.CanBeCanceled ? item.Done.Task.WaitAsync(cancellationToken) : item.Done.Task;
    }

    /// <summary>Commits waiting for their shard's call in flight (for tests).</summary>
    internal int Queued
    {
        get
        {
            lock (_gate)
            {
                int queued = 0;
                foreach (var lane in _lanes.Values)
                {
                    queued += lane.Queue.Count;
                }

                return queued;
            }
        }
    }

    private async Task DrainAsync(Lane lane)
    {
        while (true)
        {
            Item[] round;
            lock (_gate)
            {
                if (lane.Queue.Count == 0)
                {
                    lane.Sending = false;
                    return;
                }

                int take = Math.Min(lane.Queue.Count, MaxBatch);
                round = lane.Queue.GetRange(0, take).ToArray();
                lane.Queue.RemoveRange(0, take);
            }

            try
            {
                await SendAsync(round).ConfigureAwait(false);
                foreach (var item in round)
                {
                    item.Done.TrySetResult();
                }
            }
            catch (Exception e)
            {
                foreach (var item in round)
                {
                    item.Done.TrySetException(e);
                }
            }
        }
    }

    private async Task SendAsync(Item[] round)
    {
        if (round.Length == 1)
        {
            var only = round[0];
            await _store.TxnCallAsync("TxnCommit", only.Keys, s => new TxnRequest
            {
                Shard = s.Id,
                Epoch = s.Epoch,
                Op = TxnOp.Commit,
                StartTs = only.StartTs,
                CommitTs = only.CommitTs,
                Keys = only.Keys,
            }, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        int count = 0;
        foreach (var item in round)
        {
            count += item.Keys.Length;
        }

        // Every key routes the call: one that left the shard fails it with ShardMapChangedException, and the
        // transactions regroup their keys against the new map.
        var route = new byte[count][];
        int at = 0;
        foreach (var item in round)
        {
            item.Keys.CopyTo(route, at);
            at += item.Keys.Length;
        }

        try
        {
            await SendBatchAsync(round, route).ConfigureAwait(false);
        }
        catch (NoKvException e) when (e.Code == NoKvErrorCode.InvalidRange)
        {
            // A replica of an older build does not know CommitBatch (a rolling upgrade): each commit alone.
            var alone = new Task[round.Length];
            for (int i = 0; i < round.Length; i++)
            {
                alone[i] = SendAsync([round[i]]);
            }

            await Task.WhenAll(alone).ConfigureAwait(false);
        }
    }

    private async Task SendBatchAsync(Item[] round, byte[][] route)
    {
        await _store.TxnCallAsync("TxnCommitBatch", route, s =>
        {
            var batch = new TxnRequest[round.Length];
            for (int i = 0; i < round.Length; i++)
            {
                batch[i] = new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Commit, StartTs = round[i].StartTs, CommitTs = round[i].CommitTs, Keys = round[i].Keys };
            }

            return new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.CommitBatch, StartTs = round[0].StartTs, Batch = batch };
        }, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>One shard's queue. Guarded by the batcher's lock.</summary>
    private sealed class Lane
    {
        public List<Item> Queue { get; } = new();

        /// <summary>A drain loop runs (one call in flight or about to be).</summary>
        public bool Sending { get; set; }
    }

    /// <summary>One transaction's secondary commit in one shard.</summary>
    private sealed record Item(long StartTs, long CommitTs, byte[][] Keys, TaskCompletionSource Done);
}
