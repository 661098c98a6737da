using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Transactions;
using NoKv.Client.Tests.Fakes;
using NoKv.Client.Timestamps;
using Xunit;

namespace NoKv.Client.Tests.Transactions;

/// <summary>
/// Two-phase commit with the primary's shard committed in one phase (<see cref="NoKvClientOptions.CommitPrimaryInOnePhase"/>,
/// docs/transactions.md, "Primary in one phase"): only the other shards are prewritten, the primary's shard gets one
/// OnePhasePrimary above the floors they answered, no oracle call for the commit timestamp; a refusal is decided at the
/// primary before the other locks are rolled back; a leader of an older build gets the classic order.
/// </summary>
public sealed class PrimaryInOnePhaseTests
{
    // Keys below 0x80 are in shard 1 (the primary's), from 0x80 up in shard 2.
    private static readonly byte[] Primary = "a"u8.ToArray();
    private static readonly byte[] Secondary = [0x90];
    private const long Floor = 1_000_000;

    [Fact]
    public async Task Only_the_other_shard_is_prewritten_and_the_primary_commits_above_its_floor_without_an_oracle_call()
    {
        var (client, oracle) = NewClient();
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op switch
        {
            TxnOp.Prewrite => new TxnResponse { Code = NoKvErrorCode.Ok, MinCommitTs = Floor, CurrentEpoch = request.Epoch },
            TxnOp.OnePhasePrimary => new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.Committed, CommitTs = request.MinCommitTs + 1, CurrentEpoch = request.Epoch },
            _ => new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch },
        });

        var tx = await client.Store.BeginTransactionAsync();
        tx.Put(Primary, "new"u8.ToArray());
        tx.Put(Secondary, "new"u8.ToArray());
        await tx.CommitAsync();
        Assert.Equal(Floor + 1, tx.CommitTimestamp);
        Assert.Equal(1, oracle.Calls);

        var prewrite = Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-prewrite").Txn!;
        Assert.Equal([Secondary], prewrite.Mutations!.Select(m => m.Key));
        Assert.Equal(Primary, prewrite.PrimaryKey);
        var primary = Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-onephaseprimary").Txn!;
        Assert.Equal([Primary], primary.Mutations!.Select(m => m.Key));
        Assert.Equal(Primary, primary.PrimaryKey);
        Assert.Equal(Floor, primary.MinCommitTs);
        await WaitUntilAsync(() => client.Replicas.Calls.Any(c => c.Kind == "txn-commit"), "the secondary commit");
        var secondary = Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-commit").Txn!;
        Assert.Equal((Floor + 1, (byte[]?)null), (secondary.CommitTs, secondary.PrimaryKey));
    }

    [Fact]
    public async Task A_shard_that_answers_no_floor_makes_the_client_take_an_oracle_timestamp_after_the_locks()
    {
        var (client, oracle) = NewClient();
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op switch
        {
            TxnOp.OnePhasePrimary => new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.Committed, CommitTs = request.MinCommitTs + 1, CurrentEpoch = request.Epoch },
            _ => new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch },
        });

        var tx = await client.Store.BeginTransactionAsync();
        tx.Put(Primary, "new"u8.ToArray());
        tx.Put(Secondary, "new"u8.ToArray());
        await tx.CommitAsync();

        Assert.Equal(2, oracle.Calls);
        Assert.Equal(oracle.Last, Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-onephaseprimary").Txn!.MinCommitTs);
    }

    [Fact]
    public async Task A_refused_primary_is_recorded_rolled_back_at_the_primary_before_the_other_locks_are_removed()
    {
        var (client, _) = NewClient();
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op switch
        {
            TxnOp.Prewrite => new TxnResponse { Code = NoKvErrorCode.Ok, MinCommitTs = Floor, CurrentEpoch = request.Epoch },
            TxnOp.OnePhasePrimary => new TxnResponse { Code = NoKvErrorCode.WriteConflict, Detail = "newer version", CurrentEpoch = request.Epoch },
            TxnOp.Rollback => new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.RolledBack, CurrentEpoch = request.Epoch },
            _ => new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch },
        });

        var tx = await client.Store.BeginTransactionAsync();
        tx.Put(Primary, "new"u8.ToArray());
        tx.Put(Secondary, "new"u8.ToArray());
        await Assert.ThrowsAsync<TransactionConflictException>(() => tx.CommitAsync());

        var rollbacks = client.Replicas.Calls.Where(c => c.Kind == "txn-rollback").Select(c => c.Txn!).ToList();
        Assert.Equal(2, rollbacks.Count);
        Assert.Equal(Primary, rollbacks[0].PrimaryKey);
        Assert.Empty(rollbacks[0].Keys!);
        Assert.Null(rollbacks[1].PrimaryKey);
        Assert.Equal([Secondary], rollbacks[1].Keys!);
    }

    [Fact]
    public async Task A_primary_an_earlier_attempt_committed_is_reported_committed_and_its_secondary_rolled_forward()
    {
        var (client, _) = NewClient();
        const long earlier = Floor + 7;
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op switch
        {
            TxnOp.Prewrite => new TxnResponse { Code = NoKvErrorCode.Ok, MinCommitTs = Floor, CurrentEpoch = request.Epoch },

            // The retry meets another transaction's live lock (the client gives up: a conflict) ...
            TxnOp.OnePhasePrimary => new TxnResponse { Code = NoKvErrorCode.KeyLocked, Lock = new TxnLockInfo(Primary, Primary, 5, 3_000, 1), CurrentEpoch = request.Epoch },
            TxnOp.CheckStatus => new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.Locked, CurrentEpoch = request.Epoch },

            // ... but the first attempt had applied: the rollback at the primary says so.
            TxnOp.Rollback => new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.Committed, CommitTs = earlier, CurrentEpoch = request.Epoch },
            _ => new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch },
        });

        var tx = await client.Store.BeginTransactionAsync();
        tx.Put(Primary, "new"u8.ToArray());
        tx.Put(Secondary, "new"u8.ToArray());
        await tx.CommitAsync();

        Assert.Equal(earlier, tx.CommitTimestamp);
        await WaitUntilAsync(() => client.Replicas.Calls.Any(c => c.Kind == "txn-commit"), "the secondary commit");
        Assert.Equal(earlier, Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-commit").Txn!.CommitTs);
        Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-rollback");
    }

    [Fact]
    public async Task A_leader_of_an_older_build_gets_the_classic_order()
    {
        var (client, oracle) = NewClient();
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op switch
        {
            TxnOp.OnePhasePrimary => new TxnResponse { Code = NoKvErrorCode.InvalidRange, Detail = "unknown transaction operation 11", CurrentEpoch = request.Epoch },
            _ => new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch },
        });

        var tx = await client.Store.BeginTransactionAsync();
        tx.Put(Primary, "new"u8.ToArray());
        tx.Put(Secondary, "new"u8.ToArray());
        await tx.CommitAsync();

        Assert.Equal([Secondary, Primary], client.Replicas.Calls.Where(c => c.Kind == "txn-prewrite").Select(c => c.Txn!.Mutations!.Single().Key));
        var primaryCommit = Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-commit" && c.Txn!.PrimaryKey is not null).Txn!;
        Assert.Equal(oracle.Last, primaryCommit.CommitTs);
        Assert.Equal(oracle.Last, tx.CommitTimestamp);
    }

    [Fact]
    public async Task A_cluster_not_yet_at_its_format_level_gets_the_classic_order_and_is_not_asked_again_for_a_while()
    {
        // The leader's cluster still has a store of an older build: it refuses type 30 before proposing anything.
        var clock = new ManualTimeProvider();
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1], [1]), o => o.BatchSecondaryCommits = false, clock);
        var oracle = new CountingTimestamps();
        ((KvStore)client.Store).Timestamps = oracle;
        bool enabled = false;
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op == TxnOp.OnePhasePrimary && !Volatile.Read(ref enabled)
            ? new TxnResponse { Code = NoKvErrorCode.CommandNotEnabled, Detail = "needs cluster format level 2", CurrentEpoch = request.Epoch }
            : new TxnResponse { Code = NoKvErrorCode.Ok, CommitTs = oracle.Last + 1, CurrentEpoch = request.Epoch });

        async Task CommitOneAsync()
        {
            var tx = await client.Store.BeginTransactionAsync();
            tx.Put(Primary, "new"u8.ToArray());
            tx.Put(Secondary, "new"u8.ToArray());
            await tx.CommitAsync();
        }

        await CommitOneAsync();
        Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-onephaseprimary");
        Assert.Equal([Secondary, Primary], client.Replicas.Calls.Where(c => c.Kind == "txn-prewrite").Select(c => c.Txn!.Mutations!.Single().Key));

        // Within the hold-back the client does not ask again, even once the cluster is upgraded ...
        Volatile.Write(ref enabled, true);
        client.Replicas.ClearCalls();
        await CommitOneAsync();
        Assert.DoesNotContain(client.Replicas.Calls, c => c.Kind == "txn-onephaseprimary");
        Assert.Equal(2, client.Replicas.Calls.Count(c => c.Kind == "txn-prewrite"));

        // ... and after it, the primary commits in one phase again.
        clock.Advance(KvStore.OnePhasePrimaryRetryAfter);
        client.Replicas.ClearCalls();
        await CommitOneAsync();
        Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-onephaseprimary");
        Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-prewrite");
    }

    private static (FakeClient Client, CountingTimestamps Oracle) NewClient()
    {
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1], [1]), o => o.BatchSecondaryCommits = false);
        var oracle = new CountingTimestamps();
        ((KvStore)client.Store).Timestamps = oracle;
        return (client, oracle);
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
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public long Last => Interlocked.Read(ref _last);

        public ValueTask<long> GetTimestampAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return ValueTask.FromResult(Interlocked.Increment(ref _last));
        }
    }
}
