using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Client.Tests.Fakes;
using NoKv.Client.Timestamps;
using Xunit;

namespace NoKv.Client.Tests.Transactions;

/// <summary>
/// A two-phase commit holds locks from its prewrite until its last secondary commit (in the background by default). A
/// read of the same client that meets one of them waits for that commit to end instead of asking the primary's shard
/// (check-status), sleeping between asks, and committing the key a second time.
/// </summary>
public sealed class OwnCommitResolutionTests
{
    private static readonly byte[] PrimaryKey = "a"u8.ToArray();

    // Keys from 0x80 up are in the second shard of the fake two-shard map.
    private static readonly byte[] SecondaryKey = [0x90];

    [Fact]
    public async Task A_lock_of_a_transaction_this_client_committed_is_resolved_by_its_secondary_commit_in_flight()
    {
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1], [1]), o => o.CommitPrimaryInOnePhase = false);
        ((KvStore)client.Store).Timestamps = new CountingTimestamps();
        var secondaryCommitGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long firstStart = 0;
        bool secondaryCommitted = false;
        client.Replicas.RespondTxn = async request =>
        {
            switch (request.Op)
            {
                case TxnOp.Commit when request.PrimaryKey is null:
                    await secondaryCommitGate.Task;
                    secondaryCommitted = true;
                    return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
                case TxnOp.CheckStatus:
                    return new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.Committed, CommitTs = firstStart + 1, CurrentEpoch = request.Epoch };
                case TxnOp.Get when request.Key!.AsSpan().SequenceEqual(SecondaryKey) && !secondaryCommitted:
                    return new TxnResponse { Code = NoKvErrorCode.KeyLocked, Lock = new TxnLockInfo(SecondaryKey, PrimaryKey, firstStart, 3_000, 5), CurrentEpoch = request.Epoch };
                case TxnOp.Get:
                    return new TxnResponse { Code = NoKvErrorCode.Ok, Value = secondaryCommitted ? "new"u8.ToArray() : "old"u8.ToArray(), CurrentEpoch = request.Epoch };
                default:
                    return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
            }
        };

        // The first transaction commits its primary; its secondary commit stays parked at the fake replica.
        await using (var first = await client.Store.BeginTransactionAsync())
        {
            firstStart = first.StartTimestamp;
            first.Put(PrimaryKey, "new"u8.ToArray());
            first.Put(SecondaryKey, "new"u8.ToArray());
            await first.CommitAsync();
        }

        await WaitUntilAsync(() => client.Replicas.Calls.Any(c => c.Kind == "txn-commit" && c.Txn!.PrimaryKey is null), "the secondary commit to be sent");

        // The second meets the first's lock on the secondary and waits for the commit in flight.
        await using var second = await client.Store.BeginTransactionAsync();
        var read = second.GetAsync(SecondaryKey);
        await WaitUntilAsync(() => client.Replicas.Calls.Any(c => c.Kind == "txn-get"), "the read to reach the replica");
        Assert.False(read.IsCompleted);
        secondaryCommitGate.SetResult();

        Assert.Equal("new", Encoding.UTF8.GetString((await read.WaitAsync(TimeSpan.FromSeconds(30)))!));
        Assert.DoesNotContain(client.Replicas.Calls, c => c.Kind == "txn-checkstatus");
        Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-commit" && c.Txn!.PrimaryKey is null);
    }

    [Fact]
    public async Task A_read_that_meets_a_lock_of_a_commit_of_this_client_in_progress_waits_for_that_commit()
    {
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1], [1]), o => o.CommitPrimaryInOnePhase = false);
        ((KvStore)client.Store).Timestamps = new CountingTimestamps();
        var primaryCommitGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long firstStart = 0;
        bool prewritten = false;
        bool secondaryCommitted = false;
        client.Replicas.RespondTxn = async request =>
        {
            switch (request.Op)
            {
                case TxnOp.Prewrite:
                    prewritten = true;
                    return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
                case TxnOp.Commit when request.PrimaryKey is not null:
                    await primaryCommitGate.Task;
                    return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
                case TxnOp.Commit:
                    secondaryCommitted = true;
                    return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
                case TxnOp.CheckStatus:
                    // What the primary's shard says meanwhile: live, not expired.
                    return new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.Locked, CurrentEpoch = request.Epoch };
                case TxnOp.Get when request.Key!.AsSpan().SequenceEqual(SecondaryKey) && prewritten && !secondaryCommitted:
                    return new TxnResponse { Code = NoKvErrorCode.KeyLocked, Lock = new TxnLockInfo(SecondaryKey, PrimaryKey, firstStart, 3_000, 5), CurrentEpoch = request.Epoch };
                case TxnOp.Get:
                    return new TxnResponse { Code = NoKvErrorCode.Ok, Value = secondaryCommitted ? "new"u8.ToArray() : "old"u8.ToArray(), CurrentEpoch = request.Epoch };
                default:
                    return new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch };
            }
        };

        // The first transaction prewrites both keys; the commit of its primary stays parked at the fake replica.
        var first = await client.Store.BeginTransactionAsync();
        firstStart = first.StartTimestamp;
        first.Put(PrimaryKey, "new"u8.ToArray());
        first.Put(SecondaryKey, "new"u8.ToArray());
        var commit = first.CommitAsync();
        await WaitUntilAsync(() => client.Replicas.Calls.Any(c => c.Kind == "txn-commit"), "the primary commit to be sent");

        // The second meets the first's lock and waits for the first's commit, whatever it takes.
        await using var second = await client.Store.BeginTransactionAsync();
        var read = second.GetAsync(SecondaryKey);
        await WaitUntilAsync(() => client.Replicas.Calls.Any(c => c.Kind == "txn-get"), "the read to reach the replica");
        Assert.False(read.IsCompleted);
        primaryCommitGate.SetResult();
        await commit.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("new", Encoding.UTF8.GetString((await read.WaitAsync(TimeSpan.FromSeconds(30)))!));
        Assert.DoesNotContain(client.Replicas.Calls, c => c.Kind == "txn-checkstatus");
        Assert.Equal(2, client.Replicas.Calls.Count(c => c.Kind == "txn-get"));
        Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-commit" && c.Txn!.PrimaryKey is null);
        await first.DisposeAsync();
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
