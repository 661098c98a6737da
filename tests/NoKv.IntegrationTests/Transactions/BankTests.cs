using System.Collections.Concurrent;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Transactions;

/// <summary>
/// The bank: accounts on every shard, concurrent transfers (cross-shard two-phase and single-shard one-phase)
/// while a silo is killed; every read-only snapshot must see the same total, and so must the final read.
/// </summary>
public sealed class BankTests
{
    private const int Accounts = 8;
    private const long Initial = 100;
    private readonly ITestOutputHelper _output;

    public BankTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task TransfersKeepTheTotalWhileASiloIsKilled()
    {
        int seed = Environment.GetEnvironmentVariable("NOKV_BANK_SEED") is { } s ? int.Parse(s) : Random.Shared.Next();
        _output.WriteLine($"seed {seed}");
        var duration = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("NOKV_BANK_SECONDS"), out int secs) ? secs : 8);
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 4, client: o => o.TransactionLockTtl = TimeSpan.FromSeconds(2));
        var kv = cluster.Store;

        // Two accounts per shard: first bytes '0', 'A', 'a', '~' fall in the four shards.
        var keys = new List<byte[]>();
        foreach (char c in "0Aa~")
        {
            keys.Add(Encoding.UTF8.GetBytes($"{c}acct-1"));
            keys.Add(Encoding.UTF8.GetBytes($"{c}acct-2"));
        }

        await kv.TransactAsync(async tx =>
        {
            foreach (var k in keys)
            {
                tx.Put(k, Encoding.UTF8.GetBytes(Initial.ToString()));
            }

            await Task.CompletedTask;
        });

        long total = Initial * Accounts;
        using var stop = new CancellationTokenSource(duration);
        var badTotals = new ConcurrentQueue<string>();
        int transfers = 0, conflicts = 0, snapshots = 0, unknown = 0;

        async Task TransferLoop(int worker)
        {
            var random = new Random(seed + worker);
            while (!stop.IsCancellationRequested)
            {
                var from = keys[random.Next(keys.Count)];
                var to = keys[random.Next(keys.Count)];
                if (from.AsSpan().SequenceEqual(to))
                {
                    continue;
                }

                long amount = random.Next(1, 20);
                try
                {
                    await kv.TransactAsync(async tx =>
                    {
                        long a, b;
                        if (worker % 2 == 0)
                        {
                            a = long.Parse(Encoding.UTF8.GetString((await tx.GetAsync(from))!));
                            b = long.Parse(Encoding.UTF8.GetString((await tx.GetAsync(to))!));
                        }
                        else
                        {
                            // Both at once: one request per shard (a multi-key read when both are in one shard).
                            var both = await tx.GetManyAsync([from, to]);
                            a = long.Parse(Encoding.UTF8.GetString(both[0]!));
                            b = long.Parse(Encoding.UTF8.GetString(both[1]!));
                        }

                        tx.Put(from, Encoding.UTF8.GetBytes((a - amount).ToString()));
                        tx.Put(to, Encoding.UTF8.GetBytes((b + amount).ToString()));
                    });
                    Interlocked.Increment(ref transfers);
                }
                catch (TransactionConflictException)
                {
                    Interlocked.Increment(ref conflicts);
                }
                catch (TransactionAbortedException)
                {
                    Interlocked.Increment(ref conflicts);
                }
                catch (CommitOutcomeUnknownException)
                {
                    // Either all of it or nothing: the total is unaffected either way.
                    Interlocked.Increment(ref unknown);
                }
                catch (NoKvTimeoutException)
                {
                    Interlocked.Increment(ref unknown);
                }
            }
        }

        // One auditor reads key by key, the other every account at once (a multi-key read per shard).
        async Task AuditLoop(bool many)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var tx = await kv.BeginTransactionAsync();
                    long sum = 0;
                    if (many)
                    {
                        foreach (var v in await tx.GetManyAsync(keys.ConvertAll(k => (ReadOnlyMemory<byte>)k)))
                        {
                            sum += long.Parse(Encoding.UTF8.GetString(v!));
                        }
                    }
                    else
                    {
                        foreach (var k in keys)
                        {
                            sum += long.Parse(Encoding.UTF8.GetString((await tx.GetAsync(k))!));
                        }
                    }

                    await tx.CommitAsync();
                    Interlocked.Increment(ref snapshots);
                    if (sum != total)
                    {
                        badTotals.Enqueue($"snapshot at {tx.StartTimestamp} sums to {sum}");
                    }
                }
                catch (NoKvTimeoutException)
                {
                }
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

        var workers = Enumerable.Range(0, 6).Select(TransferLoop).Append(AuditLoop(many: false)).Append(AuditLoop(many: true)).Append(Chaos()).ToArray();
        await Task.WhenAll(workers);

        long final = 0;
        await kv.TransactAsync(async tx =>
        {
            final = 0;
            foreach (var k in keys)
            {
                final += long.Parse(Encoding.UTF8.GetString((await tx.GetAsync(k))!));
            }
        });
        long plain = 0;
        foreach (var k in keys)
        {
            plain += long.Parse(Encoding.UTF8.GetString((await kv.GetAsync(k))!));
        }

        _output.WriteLine($"transfers {transfers}, conflicts {conflicts}, unknown {unknown}, snapshots {snapshots}");
        Assert.Empty(badTotals);
        Assert.Equal(total, final);
        Assert.Equal(total, plain);
        Assert.True(transfers > 10, $"only {transfers} transfers committed (seed {seed})");
        Assert.True(snapshots > 5, $"only {snapshots} snapshots read (seed {seed})");
    }
}
