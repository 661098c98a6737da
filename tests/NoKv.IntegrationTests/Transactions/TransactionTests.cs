using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Transactions;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;

namespace NoKv.IntegrationTests.Transactions;

/// <summary>
/// Transactions through the client against a 3-silo, 4-shard cluster (split on the first byte at 0x40, 0x80, 0xc0:
/// keys starting '0', 'A', 'a', '~' land on four different shards).
/// </summary>
public sealed class TransactionTests
{
    [Fact]
    public async Task CommitIsAtomicAcrossShardsAndSerializabilityHolds()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 4);
        var kv = cluster.Store;

        // Two shards, two-phase commit; the transaction reads its own writes before committing.
        await using (var tx = await kv.BeginTransactionAsync())
        {
            tx.Put(B("Alpha"), B("1"));
            tx.Put(B("alpha"), B("2"));
            Assert.Equal("1", S(await tx.GetAsync(B("Alpha"))));
            Assert.Null(await kv.GetStringAsync("Alpha"));
            await tx.CommitAsync();
            Assert.True(tx.CommitTimestamp > tx.StartTimestamp);
        }

        Assert.Equal("1", await kv.GetStringAsync("Alpha"));
        Assert.Equal("2", await kv.GetStringAsync("alpha"));

        // One shard: the one-phase path. A rolled-back transaction leaves nothing.
        await kv.TransactAsync(async tx =>
        {
            tx.Put(B("a-one"), B("x"));
            tx.Delete(B("alpha"));
            await Task.CompletedTask;
        });
        Assert.Equal("x", await kv.GetStringAsync("a-one"));
        Assert.Null(await kv.GetStringAsync("alpha"));
        var rolledBack = await kv.BeginTransactionAsync();
        rolledBack.Put(B("Alpha"), B("never"));
        await rolledBack.RollbackAsync();
        Assert.Equal("1", await kv.GetStringAsync("Alpha"));

        // A snapshot does not move: a plain write after the start is invisible to the transaction.
        var snapshot = await kv.BeginTransactionAsync();
        Assert.Equal("1", S(await snapshot.GetAsync(B("Alpha"))));
        await kv.PutAsync("Alpha", "plain");
        Assert.Equal("1", S(await snapshot.GetAsync(B("Alpha"))));
        await snapshot.CommitAsync();

        // Write skew (two doctors on call, on different shards): both read both, each takes itself off call.
        await kv.PutAsync("Alice", "on");
        await kv.PutAsync("bob", "on");
        var t1 = await kv.BeginTransactionAsync();
        var t2 = await kv.BeginTransactionAsync();
        foreach (var t in new[] { t1, t2 })
        {
            Assert.Equal("on", S(await t.GetAsync(B("Alice"))));
            Assert.Equal("on", S(await t.GetAsync(B("bob"))));
        }

        t1.Put(B("Alice"), B("off"));
        t2.Put(B("bob"), B("off"));
        await t1.CommitAsync();
        await Assert.ThrowsAsync<TransactionConflictException>(() => t2.CommitAsync());
        Assert.Equal("off", await kv.GetStringAsync("Alice"));
        Assert.Equal("on", await kv.GetStringAsync("bob"));

        // The same race run concurrently, many times: never both off.
        for (int round = 0; round < 10; round++)
        {
            await kv.PutAsync("Alice", "on");
            await kv.PutAsync("bob", "on");
            var doctors = new[] { "Alice", "bob" };
            var results = await Task.WhenAll(doctors.Select(async me =>
            {
                try
                {
                    await kv.TransactAsync(async tx =>
                    {
                        int onCall = 0;
                        foreach (var d in doctors)
                        {
                            onCall += S(await tx.GetAsync(B(d))) == "on" ? 1 : 0;
                        }

                        if (onCall >= 2)
                        {
                            tx.Put(B(me), B("off"));
                        }
                    });
                    return true;
                }
                catch (TransactionConflictException)
                {
                    return false;
                }
            }));
            var states = new[] { await kv.GetStringAsync("Alice"), await kv.GetStringAsync("bob") };
            Assert.Contains("on", states);
        }

        // A read validated at commit also covers plain writes: x is read, then changed by a plain put.
        await kv.PutAsync("0x", "1");
        var reader = await kv.BeginTransactionAsync();
        Assert.Equal("1", S(await reader.GetAsync(B("0x"))));
        await kv.PutAsync("0x", "2");
        reader.Put(B("~y"), B("from-x-1"));
        await Assert.ThrowsAsync<TransactionConflictException>(() => reader.CommitAsync());
        Assert.Null(await kv.GetStringAsync("~y"));

        // Phantoms: a scanned range that gains a key before commit aborts the scanner.
        var scanner = await kv.BeginTransactionAsync();
        var before = await scanner.ScanAsync(B("A"), B("B"), 100);
        await kv.PutAsync("Azzz", "new");
        scanner.Put(B("~count"), B(before.Count.ToString()));
        await Assert.ThrowsAsync<TransactionConflictException>(() => scanner.CommitAsync());

        // A transactional scan sees its own writes and deletes merged into the snapshot.
        await kv.TransactAsync(async tx =>
        {
            tx.Put(B("A-new"), B("n"));
            tx.Delete(B("Azzz"));
            var seen = (await tx.ScanAsync(B("A"), B("B"), 100)).Select(e => Encoding.UTF8.GetString(e.Key)).ToList();
            Assert.Contains("A-new", seen);
            Assert.DoesNotContain("Azzz", seen);
        });
    }

    [Fact]
    public async Task LocksOfADeadClientAreResolvedAsItsPrimarySays()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 4);
        var kv = cluster.Store;
        var store = (KvStore)kv;
        await kv.PutAsync("Acct", "old-A");
        await kv.PutAsync("acct", "old-a");

        // Plain writes made before a shard's leader holds an oracle block are anchored by the first transactional request,
        // which raises the shard's safe point above every timestamp taken before it (docs/transactions.md, "Plain writes
        // without the oracle"); TransactAsync retries that, the hand-made prewrites below do not. A read of both keys in
        // a transaction anchors both shards first, so the timestamps below start above their safe points.
        await kv.TransactAsync(async tx =>
        {
            await tx.GetAsync(B("Acct"));
            await tx.GetAsync(B("acct"));
        });

        // A client that dies after its commit point (primary committed, secondary still locked): the secondary rolls
        // forward for whoever reads it, plain or transactional.
        long start = await store.Timestamps.GetTimestampAsync();
        await PrewriteAsync(store, start, "Acct", ("Acct", "new-A"), ("acct", "new-a"));
        long commit = await store.Timestamps.GetTimestampAsync();
        var primary = await store.TxnCallAsync("test", [B("Acct")], s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Commit, StartTs = start, CommitTs = commit, PrimaryKey = B("Acct"), Keys = [B("Acct")] }, default);
        Assert.Equal(NoKvErrorCode.Ok, primary.Code);
        Assert.Equal("new-a", await kv.GetStringAsync("acct"));
        Assert.Equal("new-A", await kv.GetStringAsync("Acct"));

        // A client that dies before its commit point: readers wait while its lock lives, then roll it back; nothing
        // of it is ever visible, and its late commit fails.
        long dead = await store.Timestamps.GetTimestampAsync();
        await PrewriteAsync(store, dead, "acct", ("acct", "half-a"), ("Acct", "half-A"), ttlMs: 1500);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("new-A", await kv.GetStringAsync("Acct"));
        Assert.True(sw.ElapsedMilliseconds >= 500, $"the read waited only {sw.ElapsedMilliseconds} ms for a live lock");
        Assert.Equal("new-a", await kv.GetStringAsync("acct"));
        var late = await store.TxnCallAsync("test", [B("acct")], s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Commit, StartTs = dead, CommitTs = dead + 1, PrimaryKey = B("acct"), Keys = [B("acct")] }, default);
        Assert.Equal(NoKvErrorCode.TxnAborted, late.Code);

        // A plain write meets a lock too: it waits for the resolution and then applies once.
        long third = await store.Timestamps.GetTimestampAsync();
        await PrewriteAsync(store, third, "Acct", ("Acct", "lost"), ttlMs: 300);
        await kv.PutAsync("Acct", "after");
        Assert.Equal("after", await kv.GetStringAsync("Acct"));
        await kv.TransactAsync(async tx => Assert.Equal("after", S(await tx.GetAsync(B("Acct")))));
    }

    [Fact]
    public async Task LocksOfADeadClientCommittingItsPrimaryInOnePhaseAreResolvedAsThePrimarySays()
    {
        // docs/transactions.md, "Primary in one phase": only the other shard holds a lock; the primary's shard has
        // nothing of the transaction until its OnePhasePrimary applies.
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 4);
        var kv = cluster.Store;
        var store = (KvStore)kv;
        await kv.PutAsync("Acct", "old-A");
        await kv.PutAsync("acct", "old-a");
        await kv.TransactAsync(async tx =>
        {
            await tx.GetAsync(B("Acct"));
            await tx.GetAsync(B("acct"));
        });

        // Dies after its commit point: the secondary rolls forward for whoever reads it.
        long start = await store.Timestamps.GetTimestampAsync();
        long floor = await PrewriteAsync(store, start, "Acct", ("acct", "new-a"));
        Assert.True(floor > 0, "the prewrite answered no read floor");
        var primary = await OnePhasePrimaryAsync(store, start, floor, "Acct", "new-A");
        Assert.Equal(NoKvErrorCode.Ok, primary.Code);
        Assert.True(primary.CommitTs > floor);
        Assert.Equal("new-a", await kv.GetStringAsync("acct"));
        Assert.Equal("new-A", await kv.GetStringAsync("Acct"));

        // Dies before: readers wait while its lock lives, then record the absent primary rolled back and remove the
        // lock; the late primary is refused and nothing of the transaction is ever visible.
        long dead = await store.Timestamps.GetTimestampAsync();
        long deadFloor = await PrewriteAsync(store, dead, "Acct", ("acct", "half-a"), ttlMs: 1500);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("new-a", await kv.GetStringAsync("acct"));
        Assert.True(sw.ElapsedMilliseconds >= 500, $"the read waited only {sw.ElapsedMilliseconds} ms for a live lock");
        var late = await OnePhasePrimaryAsync(store, dead, deadFloor, "Acct", "half-A");
        Assert.Equal(NoKvErrorCode.TxnAborted, late.Code);
        Assert.Equal("new-A", await kv.GetStringAsync("Acct"));
        await kv.TransactAsync(async tx =>
        {
            Assert.Equal("new-A", S(await tx.GetAsync(B("Acct"))));
            Assert.Equal("new-a", S(await tx.GetAsync(B("acct"))));
        });
    }

    private static async Task<TxnResponse> OnePhasePrimaryAsync(KvStore store, long startTs, long minCommitTs, string key, string value)
    {
        // A leader proposes type 30 only once the cluster's format level says every store reads it (docs/format-commands.md,
        // "The format level"); a cluster that has just started learns it within two heartbeats. Nothing is proposed
        // before, so asking again is safe.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await store.TxnCallAsync("test", [B(key)], s => new TxnRequest
                {
                    Shard = s.Id,
                    Epoch = s.Epoch,
                    Op = TxnOp.OnePhasePrimary,
                    StartTs = startTs,
                    PrimaryKey = B(key),
                    MinCommitTs = minCommitTs,
                    Mutations = [new TxnMutation(B(key), B(value))],
                }, default);
            }
            catch (NoKvException e) when (e.Code == NoKvErrorCode.CommandNotEnabled && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Prewrites one or two keys, each in its own call; returns the highest read floor the shards answered.</summary>
    private static async Task<long> PrewriteAsync(KvStore store, long startTs, string primary, (string Key, string Value) first, (string Key, string Value)? second = null, long ttlMs = 60_000)
    {
        long floor = 0;
        foreach (var (key, value) in second is { } s ? new[] { first, s } : new[] { first })
        {
            var response = await store.TxnCallAsync("test", [B(key)], shard => new TxnRequest
            {
                Shard = shard.Id,
                Epoch = shard.Epoch,
                Op = TxnOp.Prewrite,
                StartTs = startTs,
                PrimaryKey = B(primary),
                LockTtlMs = ttlMs,
                Mutations = [new TxnMutation(B(key), B(value))],
            }, default);
            Assert.Equal(NoKvErrorCode.Ok, response.Code);
            floor = Math.Max(floor, response.MinCommitTs);
        }

        return floor;
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);
}
