using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Transactions;
using NoKv.Client.Tests.Fakes;
using NoKv.Client.Timestamps;
using Xunit;

namespace NoKv.Client.Tests.Transactions;

/// <summary>
/// Secondary commits share a call per shard (<see cref="NoKvClientOptions.BatchSecondaryCommits"/>): while one is in
/// flight, later ones queue and leave together as one CommitBatch. A replica that does not know CommitBatch gets them
/// one by one; a batch that fails leaves the locks to readers, who roll them forward through the primary.
/// </summary>
public sealed class SecondaryCommitBatchingTests
{
    // Keys below 0x80 are in shard 1 (the primaries), from 0x80 up in shard 2 (the secondaries).
    private static readonly byte[][] Primaries = ["a"u8.ToArray(), "b"u8.ToArray(), "c"u8.ToArray()];
    private static readonly byte[][] Secondaries = [[0x90], [0x91], [0x92]];

    [Fact]
    public async Task Commits_queued_behind_the_call_in_flight_leave_together_in_one_batch()
    {
        var client = NewClient();
        var firstCommitGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int secondaryCommits = 0;
        client.Replicas.RespondTxn = async request =>
        {
            if (request.Op == TxnOp.Commit && request.PrimaryKey is null && Interlocked.Increment(ref secondaryCommits) == 1)
            {
                await firstCommitGate.Task;
            }

            return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
        };

        var starts = new long[3];
        for (int i = 0; i < 3; i++)
        {
            starts[i] = await TransferAsync(client, i);
            if (i == 0)
            {
                await WaitUntilAsync(() => secondaryCommits == 1, "the first secondary commit to be sent");
            }
        }

        var batcher = ((KvStore)client.Store).SecondaryCommits!;
        await WaitUntilAsync(() => batcher.Queued == 2, "the other two to queue behind it");
        firstCommitGate.SetResult();
        await WaitUntilAsync(() => batcher.Queued == 0 && client.Replicas.Calls.Any(c => c.Kind == "txn-commitbatch"), "the batch to be sent");

        var batch = Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-commitbatch").Txn!;
        Assert.Equal([starts[1], starts[2]], batch.Batch!.Select(c => c.StartTs));
        Assert.All(batch.Batch!, c => Assert.Equal((TxnOp.Commit, (byte[]?)null, batch.Shard, batch.Epoch), (c.Op, c.PrimaryKey, c.Shard, c.Epoch)));
        Assert.Equal([0x91, 0x92], batch.Batch!.Select(c => (int)c.Keys!.Single()[0]));
        Assert.True(batch.Batch!.All(c => c.CommitTs > c.StartTs));
        Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-commit" && c.Txn!.PrimaryKey is null);
    }

    [Fact]
    public async Task A_replica_that_does_not_know_commit_batches_gets_the_commits_one_by_one()
    {
        var client = NewClient();
        var firstCommitGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int secondaryCommits = 0;
        client.Replicas.RespondTxn = async request =>
        {
            if (request.Op == TxnOp.CommitBatch)
            {
                return new TxnResponse { Code = NoKvErrorCode.InvalidRange, Detail = "unknown transaction operation 10", CurrentEpoch = request.Epoch };
            }

            if (request.Op == TxnOp.Commit && request.PrimaryKey is null && Interlocked.Increment(ref secondaryCommits) == 1)
            {
                await firstCommitGate.Task;
            }

            return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
        };

        for (int i = 0; i < 3; i++)
        {
            await TransferAsync(client, i);
            if (i == 0)
            {
                await WaitUntilAsync(() => secondaryCommits == 1, "the first secondary commit to be sent");
            }
        }

        var batcher = ((KvStore)client.Store).SecondaryCommits!;
        await WaitUntilAsync(() => batcher.Queued == 2, "the other two to queue behind it");
        firstCommitGate.SetResult();
        await WaitUntilAsync(() => secondaryCommits == 3, "the queued commits to be sent one by one");

        Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-commitbatch");
        Assert.Equal([0x90, 0x91, 0x92], client.Replicas.Calls.Where(c => c.Kind == "txn-commit" && c.Txn!.PrimaryKey is null).Select(c => (int)c.Txn!.Keys!.Single()[0]).Order());
    }

    [Fact]
    public async Task Locks_left_by_a_failed_batch_are_rolled_forward_by_a_reader_through_the_primary()
    {
        var client = NewClient();
        var firstCommitGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int secondaryCommits = 0;
        var committed = new HashSet<int>();
        var commitTsOf = new Dictionary<long, long>();
        client.Replicas.RespondTxn = async request =>
        {
            switch (request.Op)
            {
                case TxnOp.CommitBatch:
                    // Lost: nothing applied, and an answer the client does not retry.
                    return new TxnResponse { Code = NoKvErrorCode.TxnAborted, Detail = "lost", CurrentEpoch = request.Epoch };
                case TxnOp.Commit when request.PrimaryKey is not null:
                    lock (commitTsOf)
                    {
                        commitTsOf[request.StartTs] = request.CommitTs;
                    }

                    break;
                case TxnOp.Commit:
                    if (Interlocked.Increment(ref secondaryCommits) == 1)
                    {
                        await firstCommitGate.Task;
                    }

                    lock (committed)
                    {
                        committed.Add(request.Keys!.Single()[0]);
                    }

                    break;
                case TxnOp.CheckStatus:
                    lock (commitTsOf)
                    {
                        return new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.Committed, CommitTs = commitTsOf[request.StartTs], CurrentEpoch = request.Epoch };
                    }

                case TxnOp.Get:
                    lock (committed)
                    {
                        if (!committed.Contains(request.Key![0]))
                        {
                            return new TxnResponse { Code = NoKvErrorCode.KeyLocked, Lock = new TxnLockInfo(request.Key, Primaries[request.Key[0] - 0x90], StartOf(commitTsOf, request.Key[0] - 0x90), 3_000, 5), CurrentEpoch = request.Epoch };
                        }
                    }

                    return new TxnResponse { Code = NoKvErrorCode.Ok, Value = "new"u8.ToArray(), CurrentEpoch = request.Epoch };
            }

            return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
        };

        for (int i = 0; i < 3; i++)
        {
            await TransferAsync(client, i);
            if (i == 0)
            {
                await WaitUntilAsync(() => secondaryCommits == 1, "the first secondary commit to be sent");
            }
        }

        var batcher = ((KvStore)client.Store).SecondaryCommits!;
        await WaitUntilAsync(() => batcher.Queued == 2, "the other two to queue behind it");
        firstCommitGate.SetResult();
        await WaitUntilAsync(() => client.Replicas.Calls.Any(c => c.Kind == "txn-commitbatch"), "the batch to be sent");

        // The same client reads both secondaries the batch left locked: each read resolves through the primary.
        await using var reader = await client.Store.BeginTransactionAsync();
        foreach (var key in new[] { Secondaries[1], Secondaries[2] })
        {
            Assert.Equal("new", Encoding.UTF8.GetString((await reader.GetAsync(key).WaitAsync(TimeSpan.FromSeconds(30)))!));
        }

        Assert.Equal(2, client.Replicas.Calls.Count(c => c.Kind == "txn-checkstatus"));
        Assert.Equal([0x90, 0x91, 0x92], committed.Order());
    }

    /// <summary>The start timestamp of transfer <paramref name="i"/>: the i-th primary commit recorded, in start order.</summary>
    private static long StartOf(Dictionary<long, long> commitTsOf, int i)
    {
        lock (commitTsOf)
        {
            return commitTsOf.Keys.Order().ElementAt(i);
        }
    }

    /// <summary>Transaction <paramref name="i"/> writes its primary in shard 1 and its secondary in shard 2; returns its start.</summary>
    private static async Task<long> TransferAsync(FakeClient client, int i)
    {
        await using var tx = await client.Store.BeginTransactionAsync();
        tx.Put(Primaries[i], "new"u8.ToArray());
        tx.Put(Secondaries[i], "new"u8.ToArray());
        await tx.CommitAsync();
        return tx.StartTimestamp;
    }

    private static FakeClient NewClient()
    {
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1], [1]), o => o.CommitPrimaryInOnePhase = false);
        ((KvStore)client.Store).Timestamps = new CountingTimestamps();
        return client;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(5);
        }
    }

    private sealed class CountingTimestamps : ITimestampSource
    {
        private long _last = 100;

        public ValueTask<long> GetTimestampAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Interlocked.Increment(ref _last));
    }
}
