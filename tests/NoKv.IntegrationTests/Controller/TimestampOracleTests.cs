using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Client.Timestamps;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>The timestamp oracle on a real (in-process) cluster: uniqueness, order, and the controller leader's death.</summary>
public sealed class TimestampOracleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Timestamps_stay_unique_and_increasing_when_the_controller_leader_is_killed()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var source = cluster.Cluster.Client.ServiceProvider.GetRequiredService<ITimestampSource>();

        // Concurrent callers share requests but never a timestamp.
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => source.GetTimestampAsync().AsTask()));
        Assert.Equal(concurrent.Length, concurrent.Distinct().Count());
        Assert.All(concurrent, t => Assert.True(t > 0));

        // Real-time order: each call made after the previous one returned gets a larger timestamp, whichever silo
        // answers (the direct grain calls may land on another silo's oracle than the source's).
        long last = concurrent.Max();
        var oracle = cluster.Cluster.Client.GetGrain<ITimestampOracleGrain>(ShardMapGrainKeys.Cluster);
        for (int i = 0; i < 50; i++)
        {
            long next = i % 2 == 0 ? await source.GetTimestampAsync() : (await oracle.GetTimestampsAsync(3)).First;
            Assert.True(next > last, $"timestamp {next} after {last}");
            last = next + (i % 2 == 0 ? 0 : 2);
        }

        // The controller group prefers store 3 in this layout (store 1 hosts the test cluster's membership table and
        // must stay up): wait for it to lead, then kill its silo.
        var leader = await WaitForControllerLeaderAsync(cluster, s => s != new StoreId(1));
        output.WriteLine($"controller leader: store {leader}");
        var clock = Stopwatch.StartNew();
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(leader));
        long after = await source.GetTimestampAsync();
        output.WriteLine($"first timestamp after killing the controller leader took {clock.ElapsedMilliseconds} ms");
        Assert.True(after > last, $"timestamp {after} after the failover is not above {last}");
        var newLeader = await WaitForControllerLeaderAsync(cluster, s => s != leader);
        Assert.NotEqual(leader, newLeader);

        for (int i = 0; i < 20; i++)
        {
            long next = await source.GetTimestampAsync();
            Assert.True(next > after, $"timestamp {next} after {after}");
            after = next;
        }

        // The physical part follows the wall clock (within a generous bound for a loaded machine).
        long physical = TimestampBatch.PhysicalMs(after);
        Assert.InRange(physical, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task A_bad_count_is_refused()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 1);
        var oracle = cluster.Cluster.Client.GetGrain<ITimestampOracleGrain>(ShardMapGrainKeys.Cluster);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => oracle.GetTimestampsAsync(0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => oracle.GetTimestampsAsync(TimestampBatch.MaxCount + 1));
        var batch = await oracle.GetTimestampsAsync(TimestampBatch.MaxCount);
        Assert.Equal(TimestampBatch.MaxCount, batch.Count);
        Assert.True((await oracle.GetTimestampsAsync(1)).First > batch.Last);
    }

    /// <summary>The store whose controller replica leads with a majority agreeing, once it satisfies <paramref name="accept"/>.</summary>
    internal static async Task<StoreId> WaitForControllerLeaderAsync(TestNoKvCluster cluster, Func<StoreId, bool> accept)
    {
        var layout = cluster.Stores.Take(3).ToArray();
        var found = await Eventually.WaitAsync(
            async () => (await ControllerGroupStatus.MajorityLeaderAsync(cluster, layout))?.Replica.Store,
            store => store is { } s && accept(s),
            TimeSpan.FromSeconds(30),
            "the controller group to elect an acceptable leader");
        return found!.Value;
    }
}
