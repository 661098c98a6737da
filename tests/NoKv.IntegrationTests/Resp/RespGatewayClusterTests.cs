using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Sharding;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.Resp;
using NoKv.Resp.Server;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Resp;

/// <summary>The RESP gateway over the real SDK and a three-silo cluster, with a silo killed under load.</summary>
public sealed class RespGatewayClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Redis_clients_get_atomic_durable_commands_across_shards_and_a_leader_failover()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var status = await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        await using var gateway = new RespServer(cluster.Store, Options.Create(new RespOptions { Port = 0 }), NullLogger<RespServer>.Instance);
        await gateway.StartAsync(CancellationToken.None);
        var config = new ConfigurationOptions
        {
            EndPoints = { gateway.LocalEndPoint! },
            ConfigurationChannel = "",
            TieBreaker = "",
            SyncTimeout = 30_000,
            AsyncTimeout = 30_000,
        };
        await using var redis = await ConnectionMultiplexer.ConnectAsync(config);
        var db = redis.GetDatabase();

        // Keys on both shards: every first byte from 0x00 to 0xFF.
        var keys = Enumerable.Range(0, 256).Select(i => (RedisKey)new byte[] { (byte)i, (byte)'k' }).ToArray();
        await Task.WhenAll(keys.Select(k => db.StringSetAsync(k, "v")));
        var scanned = new List<byte[]>();
        await foreach (var key in redis.GetServers()[0].KeysAsync(pageSize: 10))
        {
            scanned.Add(key!);
        }

        Assert.Equal(keys.Select(k => Convert.ToHexString((byte[])k!)).Order(), scanned.Select(Convert.ToHexString).Order());

        // A counter on each shard, incremented from several connections while the leader of shard 2 is killed.
        var second = status.Map.Shards[1];
        var leader = TestNoKvCluster.LeaderOf(status, second.Id)!.Value;
        Assert.NotEqual(new StoreId(1), leader);
        RedisKey low = new byte[] { 0x01, (byte)'c' }, high = new byte[] { 0xF0, (byte)'c' };
        Assert.True(second.Range.Contains(new byte[] { 0xF0, (byte)'c' }), "the high counter must live on shard 2");
        int acknowledged = 0, attempted = 0;
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectionMultiplexer.ConnectAsync(config)));
        try
        {
            async Task Increment(IDatabase target, int count)
            {
                for (int i = 0; i < count; i++)
                {
                    Interlocked.Increment(ref attempted);
                    try
                    {
                        await target.StringIncrementAsync(high);
                        Interlocked.Increment(ref acknowledged);
                    }
                    catch (RedisException e)
                    {
                        output.WriteLine($"increment not acknowledged: {e.Message}");
                    }
                }
            }

            var load = clients.Select(c => Increment(c.GetDatabase(), 30)).ToList();
            load.Add(Task.Run(async () =>
            {
                for (int i = 0; i < 30; i++)
                {
                    await db.StringIncrementAsync(low);
                }
            }));
            await Task.Delay(200);
            await cluster.Cluster.KillSiloAsync(cluster.SiloOf(leader));
            await Task.WhenAll(load);
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }

        // Every acknowledged increment is there, once; an unacknowledged one may or may not have landed.
        long highValue = (long)await db.StringGetAsync(high);
        output.WriteLine($"high counter {highValue}: {acknowledged} acknowledged of {attempted}");
        Assert.InRange(highValue, acknowledged, attempted);
        Assert.Equal(30, (long)await db.StringGetAsync(low));

        // MULTI/EXEC on one key after the failover.
        var tx = db.CreateTransaction();
        tx.AddCondition(Condition.StringEqual(low, 30));
        var appended = tx.StringAppendAsync(low, "!");
        Assert.True(await tx.ExecuteAsync());
        Assert.Equal(3, await appended);
        Assert.Equal("30!", (string?)await db.StringGetAsync(low));
    }
}
