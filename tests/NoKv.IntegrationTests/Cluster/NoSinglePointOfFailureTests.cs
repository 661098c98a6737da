using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.Client.Hosting;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.Silo.Membership;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>
/// Three real silo processes sharing the file membership table, as deploy/local-cluster.sh runs them. Under
/// Localhost clustering store 1 held membership in memory, so its kill -9 and restart made stores 2 and 3
/// terminate ("membership table version decreased"); with a shared table every store is replaceable.
/// </summary>
public sealed class NoSinglePointOfFailureTests(ITestOutputHelper output) : IDisposable
{
    private const string ClusterId = "spof-test";
    private const int KeysPerRound = 16;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "nokv-spof-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SiloProcess?[] _silos = new SiloProcess?[3];
    private readonly int[] _siloPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];
    private readonly int[] _gatewayPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];

    private string MembershipDirectory => Path.Combine(_root, "membership");

    [Fact]
    public async Task KillMinus9OfStore1LeavesStores2And3ServingAndStore1RejoinsWhenRestarted()
    {
        var clock = Stopwatch.StartNew();
        for (int store = 1; store <= 3; store++)
        {
            Start(store);
        }

        var client = await ConnectAsync(c => c.UseFileClustering(MembershipDirectory));
        try
        {
            var kv = client.Services.GetRequiredService<IKvStore>();
            await WriteRoundAsync(kv, "before");
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: cluster up, first round written");

            var table = new FileMembershipTable(MembershipDirectory, ClusterId, TimeSpan.FromSeconds(10), NullLogger.Instance);
            var oldStore1 = await ActiveRowAsync(table, "store-1", previous: null);
            await _silos[0]!.KillAsync();
            var killedAt = clock.Elapsed;

            // Every shard keeps taking writes: store 1's replicas are a minority everywhere.
            await WriteRoundAsync(kv, "during");
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: second round written {(clock.Elapsed - killedAt).TotalSeconds:F1}s after the kill");
            await ReadRoundAsync(kv, "before");

            Start(1);
            var newStore1 = await ActiveRowAsync(table, "store-1", previous: oldStore1.SiloAddress);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: store 1 rejoined as {newStore1.SiloAddress}");
            Assert.False(_silos[1]!.HasExited, "store 2 exited: " + _silos[1]!.RecentLog());
            Assert.False(_silos[2]!.HasExited, "store 3 exited: " + _silos[2]!.RecentLog());

            // The old incarnation ends up dead in the table, whoever declares it so (the new one marks it as it joins,
            // the survivors vote it out; a write lost to a concurrent one is retried at the next table refresh).
            await Eventually.WaitAsync(
                async () => (await table.ReadAll()).Members.Select(m => m.Item1).ToList(),
                rows => rows.Single(r => r.SiloAddress.Equals(oldStore1.SiloAddress)).Status == SiloStatus.Dead && rows.Count(r => r.Status == SiloStatus.Active) == 3,
                TimeSpan.FromSeconds(30),
                "store 1's old incarnation to be Dead and three silos Active");

            await WriteRoundAsync(kv, "after");
            await StoreCaughtUpAsync(client.Services.GetRequiredService<INoKvAdmin>(), store: 1);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: store 1's replicas caught up");
        }
        finally
        {
            await StopAsync(client);
        }

        // Store 1 serves on its own gateway: a client that knows only it reads everything and writes.
        var onlyStore1 = await ConnectAsync(c => c.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, _gatewayPorts[0])));
        try
        {
            var kv = onlyStore1.Services.GetRequiredService<IKvStore>();
            foreach (var round in new[] { "before", "during", "after" })
            {
                await ReadRoundAsync(kv, round);
            }

            await WriteRoundAsync(kv, "through-store-1");
            await ReadRoundAsync(kv, "through-store-1");
        }
        finally
        {
            await StopAsync(onlyStore1);
        }

        Assert.All(_silos, s => Assert.False(s!.HasExited, $"store {s.Store} exited: {s.RecentLog()}"));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: done");

        // Logs: every line timestamped, and a peer's death is routine, so the survivors print no stack trace for it.
        Assert.All(_silos, s => Assert.Empty(s!.UntimestampedLines()));
        Assert.Empty(_silos[1]!.StackTraceLines());
        Assert.Empty(_silos[2]!.StackTraceLines());
    }

    /// <summary>
    /// Orleans looks a grain up in its grain directory before placing it, and under the default directory that lookup
    /// is a call to the silo owning the grain's directory partition: after a kill -9, until membership declares the
    /// silo dead, every lookup it owned failed, so a silo that had not cached a replica's address (one that had just
    /// restarted) could not reach it, and elections of shards whose peers it could not reach stalled for seconds
    /// (docs/chaos.md). Replica grains now use a directory that answers locally: every replica of a live store is
    /// reachable from silos that never addressed it, while the dead silo still counts as active. The placing silo must
    /// also know which silo hosts each live store: Orleans' silo-metadata cache may lack one (an ask that failed at
    /// start is not repeated until membership changes again), so the store directory asks such silos itself
    /// (StoreDirectoryProber).
    /// </summary>
    [Fact]
    public async Task ReplicasOfLiveStoresAreReachableBeforeAKilledSiloIsDeclaredDead()
    {
        for (int store = 1; store <= 3; store++)
        {
            Start(store);
        }

        var client = await ConnectAsync(c => c.UseFileClustering(MembershipDirectory));
        try
        {
            await WriteRoundAsync(client.Services.GetRequiredService<IKvStore>(), "before");
            var table = new FileMembershipTable(MembershipDirectory, ClusterId, TimeSpan.FromSeconds(10), NullLogger.Instance);
            // Every store must have joined before the kill: a silo still joining must reach every active silo before it
            // may become active, so one that was joining when store 3 died stays unplaceable until store 3 is declared
            // dead (Orleans' join rule; seen in CI: "Failed to get ping responses from 1 of 2 active silos").
            await ActiveRowAsync(table, "store-1", previous: null);
            await ActiveRowAsync(table, "store-2", previous: null);
            var store3 = await ActiveRowAsync(table, "store-3", previous: null);
            await _silos[2]!.KillAsync();

            // No shard 100-129 exists: each of these grains activates empty on its store's silo and answers its status.
            // None was ever addressed, so each call needs a placement decision now, on the gateway silo it goes through;
            // about a third of their directory partitions belonged to the killed silo. A call the client sent through the
            // killed silo's gateway fails at once and is tried again (through another gateway); each has 3 s in all.
            var clock = Stopwatch.StartNew();
            var grains = client.Services.GetRequiredService<IGrainFactory>();
            var answers = await Task.WhenAll(Enumerable.Range(100, 30).Select(async i =>
            {
                var replica = new ReplicaId(new ShardId(i), new StoreId(1 + (i % 2)));
                var deadline = Stopwatch.StartNew();
                while (true)
                {
                    try
                    {
                        var status = await grains.GetGrain<IShardReplicaGrain>(replica.ToGrainKey()).GetStatusAsync()
                            .WaitAsync(TimeSpan.FromSeconds(3) - deadline.Elapsed);
                        return (Replica: replica, Status: status, Ms: clock.ElapsedMilliseconds);
                    }
                    catch (Exception e) when (e is not TimeoutException && deadline.Elapsed < TimeSpan.FromSeconds(2.9))
                    {
                        await Task.Delay(50);
                    }
                }
            }));
            output.WriteLine($"30 replicas never addressed before answered within {answers.Max(a => a.Ms)} ms of the kill");
            Assert.All(answers, a => Assert.Equal(a.Replica, a.Status.Replica));

            // The window was real: the killed silo was still Active in the table when the last answer came.
            var row = (await table.ReadAll()).Members.Select(m => m.Item1).Single(e => e.SiloAddress.Equals(store3.SiloAddress));
            Assert.Equal(SiloStatus.Active, row.Status);
        }
        finally
        {
            await StopAsync(client);
        }
    }

    private void Start(int store)
    {
        _silos[store - 1]?.Dispose();
        _silos[store - 1] = SiloProcess.Start(store,
        [
            "--store-id", store.ToString(), "--data-dir", Path.Combine(_root, $"store-{store}"),
            "--silo-port", _siloPorts[store - 1].ToString(), "--gateway-port", _gatewayPorts[store - 1].ToString(),
            "--resp-port", SiloProcess.FreePort().ToString(),
            "--cluster-id", ClusterId, "--service-id", ClusterId, "--Replicas:TickInterval", "00:00:00.050",
            "--clustering", "File", "--membership-dir", MembershipDirectory,
        ], output);
    }

    /// <summary>A key per shard range and then some: first bytes spread over all of 0x00-0xff.</summary>
    private static byte[] Key(string round, int i) => [(byte)(i * 16 + 1), .. Encoding.UTF8.GetBytes($"{round}-{i}")];

    private static byte[] Value(string round, int i) => Encoding.UTF8.GetBytes($"{round}-value-{i}");

    private static async Task WriteRoundAsync(IKvStore kv, string round)
    {
        for (int i = 0; i < KeysPerRound; i++)
        {
            await kv.PutAsync(Key(round, i), Value(round, i));
        }
    }

    private static async Task ReadRoundAsync(IKvStore kv, string round)
    {
        for (int i = 0; i < KeysPerRound; i++)
        {
            Assert.Equal(Value(round, i), await kv.GetAsync(Key(round, i)));
        }
    }

    /// <summary>Waits for an Active row of <paramref name="siloName"/> other than <paramref name="previous"/>.</summary>
    private static async Task<Orleans.MembershipEntry> ActiveRowAsync(FileMembershipTable table, string siloName, SiloAddress? previous)
    {
        var entry = await Eventually.WaitAsync(
            async () => (await table.ReadAll()).Members.Select(m => m.Item1)
                .FirstOrDefault(e => e.SiloName == siloName && e.Status == SiloStatus.Active && !e.SiloAddress.Equals(previous)),
            entry => entry is not null,
            TimeSpan.FromSeconds(45),
            $"an Active membership row for {siloName}");
        return entry!;
    }

    /// <summary>Every replica on <paramref name="store"/> answers and has applied what its shard's leader committed.</summary>
    private static Task StoreCaughtUpAsync(INoKvAdmin admin, int store) =>
        Eventually.WaitAsync(
            async () =>
            {
                var status = await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2));
                var lagging = new List<string>();
                foreach (var shard in status.Replicas.GroupBy(r => r.Replica.Shard))
                {
                    var mine = shard.Single(r => r.Replica.Store.Value == store);
                    long leaderCommit = shard.Where(r => r.Status?.Role == NoKv.Abstractions.Status.ReplicaRole.Leader).Select(r => r.Status!.CommitIndex).DefaultIfEmpty(long.MaxValue).Max();
                    if (mine.Status is null || mine.Status.AppliedIndex < leaderCommit)
                    {
                        lagging.Add($"{mine.Replica}: applied {mine.Status?.AppliedIndex.ToString() ?? mine.Error}, leader commit {leaderCommit}");
                    }
                }

                return string.Join("; ", lagging);
            },
            lagging => lagging.Length == 0,
            TimeSpan.FromSeconds(30),
            $"store {store}'s replicas to catch up");

    // Until membership declares a killed silo dead (about 10 s), lookups through its grain directory partition
    // fail; an operation may have to outlast that.
    private static Task<IHost> ConnectAsync(Action<IClientBuilder> clustering) =>
        ProcessClusterClient.ConnectAsync(ClusterId, clustering, TimeSpan.FromSeconds(40));

    private static async Task StopAsync(IHost host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // A silo it knew is gone; nothing to say goodbye to.
        }

        host.Dispose();
    }

    public void Dispose()
    {
        foreach (var silo in _silos)
        {
            silo?.Dispose();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
