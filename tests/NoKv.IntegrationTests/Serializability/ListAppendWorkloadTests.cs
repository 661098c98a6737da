using System.Collections.Concurrent;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Serializability;

/// <summary>
/// Elle's list-append workload against a 3-silo, 4-shard cluster: concurrent transactions read whole lists and append
/// unique elements to keys on every shard (so most transactions cross shards) while the leader of one shard's silo is
/// killed; the history is checked for every serializability anomaly (<see cref="ListAppendChecker"/>).
/// NOKV_ELLE_SEED and NOKV_ELLE_SECONDS (default 8) rerun or lengthen it.
/// </summary>
public sealed class ListAppendWorkloadTests
{
    private static readonly string[] Keys = "0Aa~".SelectMany(c => new[] { $"{c}list-1", $"{c}list-2" }).ToArray();
    private readonly ITestOutputHelper _output;

    public ListAppendWorkloadTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Transactions_show_no_anomaly_while_a_silo_is_killed()
    {
        int seed = Environment.GetEnvironmentVariable("NOKV_ELLE_SEED") is { } s ? int.Parse(s) : Random.Shared.Next();
        var duration = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("NOKV_ELLE_SECONDS"), out int secs) ? secs : 8);
        _output.WriteLine($"seed {seed}, {duration.TotalSeconds} s");
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 4, client: o => o.TransactionLockTtl = TimeSpan.FromSeconds(2));
        var kv = cluster.Store;
        var history = new ConcurrentQueue<ListTxn>();
        int nextElement = 0, nextTxn = 0;
        var untyped = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource(duration);

        async Task Worker(int worker)
        {
            var random = new Random(seed * 31 + worker);
            while (!stop.IsCancellationRequested)
            {
                var keys = Keys.OrderBy(_ => random.Next()).Take(random.Next(1, 5)).ToList();
                var ops = new List<ListOp>();
                var outcome = await RunAsync(kv, keys, ops, random, () => Interlocked.Increment(ref nextElement), untyped);
                if (outcome is null)
                {
                    continue;
                }

                history.Enqueue(new ListTxn(Interlocked.Increment(ref nextTxn), ops, outcome.Value));
            }
        }

        async Task Chaos()
        {
            await Task.Delay(duration / 3);
            var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30));
            var victim = TestNoKvCluster.LeaderOf(status, status.Map.Shards[^1].Id) ?? cluster.Stores[0];
            _output.WriteLine($"killing store {victim}");
            await cluster.Cluster.KillSiloAsync(cluster.SiloOf(victim));
        }

        await Task.WhenAll(Enumerable.Range(0, 6).Select(Worker).Append(Chaos()));

        // Every writer has stopped: one committed read of every list closes the history.
        var final = new List<ListOp>();
        await kv.TransactAsync(async tx =>
        {
            final.Clear();
            foreach (var key in Keys)
            {
                final.Add(ListOp.Read(key, Parse(await tx.GetAsync(Encoding.UTF8.GetBytes(key)))));
            }
        });
        history.Enqueue(new ListTxn(Interlocked.Increment(ref nextTxn), final, TxnOutcome.Committed));

        var all = history.ToList();
        var result = ListAppendChecker.Check(all, finalReadsComplete: true);
        _output.WriteLine($"attempted {all.Count}: committed {all.Count(t => t.Outcome == TxnOutcome.Committed)}, aborted {all.Count(t => t.Outcome == TxnOutcome.Aborted)}, unknown {all.Count(t => t.Outcome == TxnOutcome.Unknown)}");
        _output.WriteLine(result.ToString());
        _output.WriteLine($"exceptions other than NoKvException: {(untyped.IsEmpty ? "none" : string.Join(", ", untyped.Select(u => $"{u.Key} x{u.Value}")))}");
        Assert.True(result.IsValid, $"seed {seed}: {result}");
        Assert.True(all.Count(t => t.Outcome == TxnOutcome.Committed) > 30, $"seed {seed}: too few commits to prove anything");
        Assert.True(result.WriteReadEdges > 0 && result.ReadWriteEdges > 0 && result.WriteWriteEdges > 0, $"seed {seed}: {result}");
    }

    /// <summary>
    /// One attempt, never retried (a retry is a new transaction in the history): reads every chosen list and appends to
    /// some, recording what it saw. Null when the transaction could not even start. A failure before the commit is sent
    /// means nothing was written (writes are buffered until commit); a failure of the commit other than a conflict or
    /// an abort leaves the outcome unknown. Failures that are not the SDK's typed errors are counted in
    /// <paramref name="untyped"/> (and printed), since the SDK promises typed errors.
    /// </summary>
    private static async Task<TxnOutcome?> RunAsync(IKvStore kv, List<string> keys, List<ListOp> ops, Random random, Func<int> element, ConcurrentDictionary<string, int> untyped)
    {
        NoKv.Client.Transactions.ITransaction tx;
        try
        {
            tx = await kv.BeginTransactionAsync();
        }
        catch (Exception e)
        {
            Note(untyped, e);
            return null;
        }

        try
        {
            try
            {
                foreach (var key in keys)
                {
                    var list = Parse(await tx.GetAsync(Encoding.UTF8.GetBytes(key)));
                    ops.Add(ListOp.Read(key, list));
                    if (random.Next(3) != 0)
                    {
                        int appended = element();
                        tx.Put(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(string.Join(',', list.Append(appended))));
                        ops.Add(ListOp.Append(key, appended));
                    }
                }
            }
            catch (Exception e)
            {
                Note(untyped, e);
                return TxnOutcome.Aborted;
            }

            try
            {
                await tx.CommitAsync();
                return TxnOutcome.Committed;
            }
            catch (Exception e) when (e is TransactionConflictException or TransactionAbortedException)
            {
                return TxnOutcome.Aborted;
            }
            catch (Exception e)
            {
                // Commit outcome unknown, a timeout, an unavailable store: the commit may have happened.
                Note(untyped, e);
                return TxnOutcome.Unknown;
            }
        }
        finally
        {
            try
            {
                await tx.DisposeAsync();
            }
            catch (Exception e)
            {
                Note(untyped, e);
            }
        }
    }

    private static void Note(ConcurrentDictionary<string, int> untyped, Exception e)
    {
        if (e is not NoKvException)
        {
            untyped.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
        }
    }

    private static IReadOnlyList<int> Parse(byte[]? value) =>
        value is null || value.Length == 0 ? [] : Encoding.UTF8.GetString(value).Split(',').Select(int.Parse).ToArray();
}
