using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Transactions;
using NoKv.Client.Tests.Fakes;
using NoKv.Client.Timestamps;
using Xunit;

namespace NoKv.Client.Tests.Transactions;

/// <summary>
/// <see cref="ITransaction.GetManyAsync"/> sends one request per shard for all of that shard's keys (a message per
/// shard, not per key), answers in the order asked, takes buffered writes from the transaction itself, and resolves a
/// lock the multi-key read meets before asking again.
/// </summary>
public sealed class GetManyTests
{
    // The fake map has two shards: keys below 0x80 in shard 1, from 0x80 up in shard 2.
    private static readonly byte[] A1 = "a"u8.ToArray();
    private static readonly byte[] B1 = "b"u8.ToArray();
    private static readonly byte[] C1 = "c"u8.ToArray();
    private static readonly byte[] X2 = [0x90];
    private static readonly byte[] Y2 = [0x91];

    [Fact]
    public async Task Keys_of_one_shard_go_in_one_request_and_answers_keep_the_order_asked()
    {
        var client = NewClient();
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op switch
        {
            TxnOp.GetMany => new TxnResponse { Code = NoKvErrorCode.Ok, Values = Array.ConvertAll(request.Keys!, k => k[0] == (byte)'c' ? null : Value(k)), CurrentEpoch = request.Epoch },
            TxnOp.Get => new TxnResponse { Code = NoKvErrorCode.Ok, Value = Value(request.Key!), CurrentEpoch = request.Epoch },
            _ => new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch },
        });

        await using var tx = await client.Store.BeginTransactionAsync();
        tx.Put(B1, "mine"u8.ToArray());
        var values = await tx.GetManyAsync([X2, A1, B1, C1, Y2]);

        Assert.Equal(["v90", "v61", "mine", "-", "v91"], values.Select(v => v is null ? "-" : Encoding.UTF8.GetString(v)));
        var reads = client.Replicas.Calls.Where(c => c.Kind.StartsWith("txn-get", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, reads.Count);
        Assert.All(reads, r => Assert.Equal(TxnOp.GetMany, r.Txn!.Op));
        Assert.Contains(reads, r => r.Txn!.Keys!.Length == 2 && r.Txn.Keys[0][0] == 0x90 && r.Txn.Keys[1][0] == 0x91);
        Assert.Contains(reads, r => r.Txn!.Keys!.Length == 2 && r.Txn.Keys[0][0] == (byte)'a' && r.Txn.Keys[1][0] == (byte)'c');

        // A shard asked for one key only gets the single-key read.
        await tx.GetManyAsync([A1, X2]);
        Assert.Equal(2, client.Replicas.Calls.Count(c => c.Kind == "txn-get"));
    }

    [Fact]
    public async Task A_lock_met_by_a_multi_key_read_is_resolved_through_its_primary_and_the_read_asked_again()
    {
        var client = NewClient();
        bool rolledBack = false;
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op switch
        {
            TxnOp.GetMany when !rolledBack => new TxnResponse { Code = NoKvErrorCode.KeyLocked, Lock = new TxnLockInfo(B1, A1, 50, 3_000, 4_000), CurrentEpoch = request.Epoch },
            TxnOp.GetMany => new TxnResponse { Code = NoKvErrorCode.Ok, Values = Array.ConvertAll(request.Keys!, Value), CurrentEpoch = request.Epoch },
            TxnOp.CheckStatus => new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.RolledBack, CurrentEpoch = request.Epoch },
            TxnOp.Rollback => Rolled(request, ref rolledBack),
            _ => new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch },
        });

        await using var tx = await client.Store.BeginTransactionAsync();
        var values = await tx.GetManyAsync([A1, B1]).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["v61", "v62"], values.Select(v => Encoding.UTF8.GetString(v!)));
        var checkStatus = Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-checkstatus");
        Assert.Equal((50L, "a"), (checkStatus.Txn!.StartTs, Encoding.UTF8.GetString(checkStatus.Txn.PrimaryKey!)));
        var rollback = Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-rollback");
        Assert.Equal("b", Encoding.UTF8.GetString(rollback.Txn!.Keys!.Single()));
        Assert.Equal(2, client.Replicas.Calls.Count(c => c.Kind == "txn-getmany"));
    }

    [Fact]
    public async Task A_failed_multi_key_read_records_no_read_and_a_bad_key_sends_nothing()
    {
        var client = NewClient();
        client.Replicas.RespondTxn = request => Task.FromResult(request.Op == TxnOp.GetMany
            ? new TxnResponse { Code = NoKvErrorCode.SnapshotTooOld, Detail = "below the safe point", CurrentEpoch = request.Epoch }
            : new TxnResponse { Code = NoKvErrorCode.Ok, CurrentEpoch = request.Epoch });

        await using var tx = await client.Store.BeginTransactionAsync();
        var error = await Assert.ThrowsAnyAsync<NoKvException>(() => tx.GetManyAsync([A1, B1]));
        Assert.Equal(NoKvErrorCode.SnapshotTooOld, error.Code);

        int calls = client.Replicas.Calls.Count;
        await Assert.ThrowsAnyAsync<NoKvException>(() => tx.GetManyAsync([A1, Array.Empty<byte>()]));
        Assert.Equal(calls, client.Replicas.Calls.Count);

        // Nothing was read, so a commit of a write has nothing to validate: it goes as one one-phase command.
        tx.Put(A1, "w"u8.ToArray());
        await tx.CommitAsync();
        var commit = Assert.Single(client.Replicas.Calls, c => c.Kind == "txn-onephase");
        Assert.Empty(commit.Txn!.Keys!);
    }

    private static TxnResponse Rolled(TxnRequest request, ref bool rolledBack)
    {
        rolledBack = true;
        return new TxnResponse { Code = NoKvErrorCode.Ok, Status = TxnStatus.RolledBack, CurrentEpoch = request.Epoch };
    }

    private static byte[] Value(byte[] key) => Encoding.UTF8.GetBytes("v" + Convert.ToHexString(key).ToLowerInvariant());

    private static FakeClient NewClient()
    {
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1], [1]));
        ((KvStore)client.Store).Timestamps = new CountingTimestamps();
        return client;
    }

    private sealed class CountingTimestamps : ITimestampSource
    {
        private long _last = 100;

        public ValueTask<long> GetTimestampAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Interlocked.Increment(ref _last));
    }
}
