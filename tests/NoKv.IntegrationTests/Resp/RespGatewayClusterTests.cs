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

    [Fact]
    public async Task Multi_exec_across_shards_is_atomic_to_concurrent_readers_and_a_watch_conflict_aborts()
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
        RedisKey low = new byte[] { 0x01, (byte)'x' }, high = new byte[] { 0xF0, (byte)'x' };
        Assert.True(status.Map.Shards[0].Range.Contains(new byte[] { 0x01, (byte)'x' }) && status.Map.Shards[1].Range.Contains(new byte[] { 0xF0, (byte)'x' }), "the two keys must live on different shards");
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ConnectionMultiplexer.ConnectAsync(config)));
        try
        {
            // One writer sets both keys to the same number in each EXEC; readers read both in one EXEC and must
            // never see one key's new value with the other's old one.
            var writer = clients[0].GetDatabase();
            using var done = new CancellationTokenSource();
            int reads = 0;
            async Task Read(IDatabase db)
            {
                while (!done.IsCancellationRequested)
                {
                    var tx = db.CreateTransaction();
                    var a = tx.StringGetAsync(low);
                    var b = tx.StringGetAsync(high);
                    Assert.True(await tx.ExecuteAsync());
                    Assert.Equal((string?)await a, (string?)await b);
                    Interlocked.Increment(ref reads);
                }
            }

            var readers = clients.Skip(1).Select(c => Task.Run(() => Read(c.GetDatabase()))).ToList();
            for (int i = 1; i <= 40; i++)
            {
                var tx = writer.CreateTransaction();
                _ = tx.StringSetAsync(low, i);
                _ = tx.StringSetAsync(high, i);
                Assert.True(await tx.ExecuteAsync());
            }

            done.Cancel();
            await Task.WhenAll(readers);
            output.WriteLine($"40 cross-shard EXECs, {reads} snapshot reads of both keys, none torn");
            Assert.True(reads > 0);
            Assert.Equal("40", (string?)await writer.StringGetAsync(high));

            // WATCH: a write to a watched key from another connection after the WATCH aborts the EXEC (null reply)
            // and nothing of the transaction is written.
            using (var raw = new System.Net.Sockets.TcpClient())
            {
                await raw.ConnectAsync(gateway.LocalEndPoint!);
                var stream = raw.GetStream();
                async Task<string> RoundTrip(string request, int replyBytes)
                {
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
                    var buffer = new byte[replyBytes];
                    int read = 0;
                    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    while (read < replyBytes)
                    {
                        int n = await stream.ReadAsync(buffer.AsMemory(read), deadline.Token);
                        Assert.True(n > 0, "the gateway closed the connection");
                        read += n;
                    }

                    return System.Text.Encoding.ASCII.GetString(buffer);
                }

                // Inline commands quote binary keys with redis-cli's escapes.
                string lowText = @"\x01x", highText = @"\xF0x";
                Assert.Equal("+OK\r\n", await RoundTrip($"WATCH \"{lowText}\" \"{highText}\"\r\n", 5));
                await writer.StringSetAsync(high, 40);
                const string queued = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n";
                Assert.Equal(queued, await RoundTrip($"MULTI\r\nSET \"{lowText}\" 0\r\nSET \"{highText}\" 0\r\nEXEC\r\n", queued.Length));
                Assert.Equal("40", (string?)await writer.StringGetAsync(low));

                // Unwatched, the same transaction commits on both shards.
                const string committed = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n+OK\r\n";
                Assert.Equal(committed, await RoundTrip($"MULTI\r\nSET \"{lowText}\" 0\r\nSET \"{highText}\" 0\r\nEXEC\r\n", committed.Length));
                Assert.Equal("0", (string?)await writer.StringGetAsync(high));
            }

            // Conditional transactions (WATCH + GET + MULTI/EXEC) from three connections racing on keys of both shards:
            // every committed increment is there exactly once, on both keys.
            int retries = 0;
            async Task Increment(IDatabase db, int count)
            {
                for (int n = 0; n < count; n++)
                {
                    while (true)
                    {
                        long a = (long)await db.StringGetAsync(low), b = (long)await db.StringGetAsync(high);
                        var tx = db.CreateTransaction();
                        tx.AddCondition(Condition.StringEqual(low, a));
                        tx.AddCondition(Condition.StringEqual(high, b));
                        _ = tx.StringSetAsync(low, a + 1);
                        _ = tx.StringSetAsync(high, b + 1);
                        if (await tx.ExecuteAsync())
                        {
                            break;
                        }

                        Interlocked.Increment(ref retries);
                    }
                }
            }

            await Task.WhenAll(clients.Skip(1).Select(c => Increment(c.GetDatabase(), 8)));
            output.WriteLine($"24 conditional increments of two keys on two shards, {retries} retries after a failed condition or an aborted EXEC");
            Assert.Equal("24", (string?)await writer.StringGetAsync(low));
            Assert.Equal("24", (string?)await writer.StringGetAsync(high));
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }
}
