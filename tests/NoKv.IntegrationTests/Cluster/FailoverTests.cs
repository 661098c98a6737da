using System.Diagnostics;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>Silo failures: a killed leader, a stopped and restarted replica, a whole-cluster restart.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KillingTheLeadersSiloKeepsTheShardServing()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var status = await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));

        // Shard 2 is led by store 2 once balanced; store 1 hosts the test cluster's membership, so it stays up.
        var shard = status.Map.Shards[1];
        var leader = TestNoKvCluster.LeaderOf(status, shard.Id)!.Value;
        Assert.NotEqual(new StoreId(1), leader);
        var keys = KeysIn(shard, 20);
        foreach (var key in keys)
        {
            await cluster.Store.PutAsync(key, "before-" + key);
        }

        var clock = Stopwatch.StartNew();
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(leader));
        await cluster.Store.PutAsync(keys[0], "after");
        output.WriteLine($"first write after killing store {leader} took {clock.ElapsedMilliseconds} ms");

        // Election timeout is 0.5-1 s here; the bound leaves room for a loaded 2-core machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"failover took {clock.ElapsedMilliseconds} ms");
        Assert.Equal("after", await cluster.Store.GetStringAsync(keys[0]));
        foreach (var key in keys.Skip(1))
        {
            Assert.Equal("before-" + key, await cluster.Store.GetStringAsync(key));
        }

        // The dead store's replica is not re-created elsewhere: calls to it fail fast with StoreUnavailable.
        var deadReplica = cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(shard.ReplicaOn(leader).ToGrainKey());
        var error = await Eventually.WaitAsync(
            async () =>
            {
                try
                {
                    await deadReplica.GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(2));
                    return null;
                }
                catch (StoreUnavailableException e)
                {
                    return e;
                }
                catch (Exception)
                {
                    return null;
                }
            },
            e => e is not null,
            TimeSpan.FromSeconds(30),
            "the dead store's replica to be reported unavailable");
        Assert.Equal(leader, error!.Store);
    }

    [Theory]
    [InlineData(10_000)] // catches up from the leader's log
    [InlineData(16)] // the leader compacted the entries it missed: catches up from a snapshot
    public async Task StoppedReplicaCatchesUpAfterRestart(long snapshotEntries)
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2, snapshotEntries: snapshotEntries);
        await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        var lagging = new StoreId(3);
        var silo = cluster.SiloOf(lagging);
        await cluster.Cluster.StopSiloAsync(silo);

        var written = new Dictionary<string, string>();
        for (int i = 0; i < 60; i++)
        {
            string key = $"{(char)('0' + (i % 2 == 0 ? 0 : 0x50))}catchup{i:D3}";
            written[key] = $"v{i}";
            await cluster.Store.PutAsync(key, written[key]);
        }

        if (snapshotEntries < 60)
        {
            // The entries the stopped store missed are gone from every live log.
            var compacted = await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2));
            Assert.All(compacted.Map.Shards, shard => Assert.All(
                compacted.Replicas.Where(r => r.Replica.Shard == shard.Id && r.Status is not null),
                r => Assert.True(r.Status!.FirstIndex > 2, $"{r.Replica} first index {r.Status.FirstIndex}")));
        }

        await cluster.RestartStoreAsync(lagging);

        // Every replica on the restarted store reaches its leader's commit index...
        await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(30), status => status.Map.Shards.All(shard =>
        {
            var leader = TestNoKvCluster.LeaderOf(status, shard.Id);
            var leaderStatus = status.Replicas.Single(r => r.Replica == shard.ReplicaOn(leader!.Value)).Status!;
            var restarted = status.Replicas.Single(r => r.Replica == shard.ReplicaOn(lagging)).Status;
            return restarted is not null && restarted.AppliedIndex >= leaderStatus.CommitIndex;
        }));

        // ...and serves the writes it missed from its own state.
        var map = (await cluster.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2))).Map;
        foreach (var (key, value) in written)
        {
            var shard = map.FindShard(Encoding.UTF8.GetBytes(key));
            var replica = cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(shard.ReplicaOn(lagging).ToGrainKey());
            var read = await replica.GetAsync(new ReadRequest { Shard = shard.Id, Epoch = shard.Epoch, Key = Encoding.UTF8.GetBytes(key), Consistency = ReadConsistency.BoundedStaleness, MaxStaleness = TimeSpan.FromSeconds(10) });
            Assert.Equal(NoKvErrorCode.Ok, read.Code);
            Assert.Equal(value, Encoding.UTF8.GetString(read.Value!));
        }
    }

    [Fact]
    public async Task EveryAcknowledgedWriteSurvivesKillingAllSilos()
    {
        var acknowledged = new Dictionary<string, string>();
        string root;
        await using (var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 3))
        {
            cluster.KeepData = true;
            root = cluster.Root;
            var writers = Enumerable.Range(0, 4).Select(async w =>
            {
                for (int i = 0; i < 40; i++)
                {
                    string key = $"{(char)('!' + (w * 40) + i)}-w{w}-{i}";
                    string value = $"value-{w}-{i}";
                    await cluster.Store.PutAsync(key, value);
                    lock (acknowledged)
                    {
                        acknowledged[key] = value;
                    }
                }
            }).ToArray();
            await Task.WhenAll(writers);
            Assert.True(await cluster.Store.CompareAndSwapAsync("cas-key", null, "first"));
            acknowledged["cas-key"] = "first";

            // Kill every silo abruptly (no graceful deactivation); only what was synced survives.
            foreach (var store in cluster.Stores.Reverse())
            {
                await cluster.Cluster.KillSiloAsync(cluster.SiloOf(store));
            }
        }

        await using var restarted = await TestNoKvCluster.StartAsync(silos: 3, shards: 3, root: root);
        foreach (var (key, value) in acknowledged)
        {
            Assert.Equal(value, await restarted.Store.GetStringAsync(key));
        }

        var scanned = new List<KeyValuePair<string, string>>();
        await foreach (var pair in restarted.Store.ScanStringsAsync("", "", 10_000))
        {
            scanned.Add(pair);
        }

        Assert.Equal(acknowledged.OrderBy(p => p.Key, StringComparer.Ordinal).ToList(), scanned);
    }

    private static string[] KeysIn(ShardDescriptor shard, int count)
    {
        byte first = shard.Range.Start.Length == 0 ? (byte)'0' : shard.Range.Start[0];
        return Enumerable.Range(0, count).Select(i => $"{(char)first}key{i:D2}").ToArray();
    }
}
