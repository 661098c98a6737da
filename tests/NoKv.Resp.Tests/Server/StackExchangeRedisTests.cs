using NoKv.Resp.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace NoKv.Resp.Tests.Server;

/// <summary>The gateway through StackExchange.Redis, in RESP2 and RESP3: what an application using Redis would do.</summary>
public sealed class StackExchangeRedisTests
{
    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task Strings_and_keys_behave_like_redis(RedisProtocol protocol)
    {
        await using var server = await RespTestServer.StartAsync();
        await using var redis = await server.ConnectAsync(protocol);
        var db = redis.GetDatabase();

        Assert.Equal(protocol, redis.GetServers()[0].Protocol);
        Assert.True(await db.StringSetAsync("hello", "world"));
        Assert.Equal("world", (string?)await db.StringGetAsync("hello"));
        Assert.True((await db.StringGetAsync("missing")).IsNull);
        Assert.False(await db.StringSetAsync("hello", "again", when: When.NotExists));
        Assert.True(await db.StringSetAsync("fresh", "1", when: When.NotExists));
        Assert.False(await db.StringSetAsync("absent", "x", when: When.Exists));
        Assert.Equal("world", (string?)await db.StringSetAndGetAsync("hello", "there"));
        Assert.Equal("there", (string?)await db.StringGetDeleteAsync("hello"));
        Assert.False(await db.KeyExistsAsync("hello"));

        Assert.Equal(1, await db.StringIncrementAsync("counter"));
        Assert.Equal(11, await db.StringIncrementAsync("counter", 10));
        Assert.Equal(10, await db.StringDecrementAsync("counter"));
        Assert.Equal(3, await db.StringDecrementAsync("counter", 7));
        Assert.Equal(5, await db.StringAppendAsync("log", "hello"));
        Assert.Equal(11, await db.StringAppendAsync("log", " world"));
        Assert.Equal(11, await db.StringLengthAsync("log"));

        Assert.True(await db.StringSetAsync([new("a", "1"), new("b", "2"), new("a", "3")]));
        var values = await db.StringGetAsync(["a", "b", "nope"]);
        Assert.Equal(new[] { "3", "2", "(null)" }, values.Select(v => v.IsNull ? "(null)" : (string)v!).ToArray());
        Assert.Equal(2, await db.KeyExistsAsync(["a", "b", "nope"]));
        Assert.Equal(2, await db.KeyDeleteAsync(["a", "b", "nope"]));

        Assert.Equal("-1", (await db.ExecuteAsync("TTL", "log")).ToString());
        Assert.Equal("-2", (await db.ExecuteAsync("PTTL", "nope")).ToString());
        Assert.Null(await db.KeyTimeToLiveAsync("log"));
        Assert.Null(await db.KeyTimeToLiveAsync("nope"));
        Assert.False(await db.KeyPersistAsync("log"));
        Assert.True(await db.KeyExpireAsync("log", TimeSpan.FromSeconds(5)));
        Assert.InRange((await db.KeyTimeToLiveAsync("log"))!.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));
        Assert.False(await db.KeyExpireAsync("nope", TimeSpan.FromSeconds(5)));
        Assert.True(await db.KeyPersistAsync("log"));
        Assert.Null(await db.KeyTimeToLiveAsync("log"));
        Assert.True(await db.StringSetAsync("session", "s", expiry: TimeSpan.FromMinutes(1)));
        Assert.InRange((await db.KeyTimeToLiveAsync("session"))!.Value, TimeSpan.FromSeconds(59), TimeSpan.FromMinutes(1));
        Assert.True(await db.KeyExpireAsync("session", TimeSpan.Zero));
        Assert.False(await db.KeyExistsAsync("session"));
        Assert.Equal("PONG", (await db.ExecuteAsync("PING")).ToString());
        await db.PingAsync();
    }

    [Fact]
    public async Task Concurrent_increments_from_many_connections_are_all_counted()
    {
        await using var server = await RespTestServer.StartAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => server.ConnectAsync()));
        try
        {
            var work = clients.SelectMany(c => Enumerable.Range(0, 50).Select(_ => c.GetDatabase().StringIncrementAsync("shared"))).ToArray();
            await Task.WhenAll(work);
            Assert.Equal("200", (string?)await clients[0].GetDatabase().StringGetAsync("shared"));
            Assert.Equal(200, work.Select(t => t.Result).Distinct().Count());
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_transaction_with_a_condition_commits_or_aborts_as_a_whole()
    {
        await using var server = await RespTestServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        var db = redis.GetDatabase();
        await db.StringSetAsync("balance", "100");

        var tx = db.CreateTransaction();
        tx.AddCondition(Condition.StringEqual("balance", "100"));
        var decremented = tx.StringDecrementAsync("balance", 30);
        var read = tx.StringGetAsync("balance");
        Assert.True(await tx.ExecuteAsync());
        Assert.Equal(70, await decremented);
        Assert.Equal("70", (string?)await read);

        // The condition no longer holds: nothing runs.
        var stale = db.CreateTransaction();
        stale.AddCondition(Condition.StringEqual("balance", "100"));
        _ = stale.StringDecrementAsync("balance", 30);
        Assert.False(await stale.ExecuteAsync());
        Assert.Equal("70", (string?)await db.StringGetAsync("balance"));
    }

    [Fact]
    public async Task Keys_enumerates_every_key_once_through_scan_cursors()
    {
        await using var server = await RespTestServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        var db = redis.GetDatabase();
        var expected = Enumerable.Range(0, 250).Select(i => $"user:{i:D4}").ToHashSet();
        foreach (var key in expected)
        {
            await db.StringSetAsync(key, "v");
        }

        await db.StringSetAsync("other", "v");
        var found = new List<string>();
        await foreach (var key in redis.GetServers()[0].KeysAsync(pattern: "user:*", pageSize: 17))
        {
            found.Add(key!);
        }

        Assert.Equal(expected.Order(), found.Order());
    }

    [Fact]
    public async Task Conditional_transactions_over_several_keys_lose_no_update_under_contention()
    {
        // StackExchange.Redis runs a transaction with conditions as WATCH, its own GETs, MULTI ... EXEC, and reports a
        // failed condition or an aborted EXEC as false; the caller then rereads and tries again.
        const int seed = 1307;
        await using var server = await RespTestServer.StartAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => server.ConnectAsync()));
        try
        {
            var accounts = new RedisKey[] { "acct:a", "acct:b", "acct:c", "acct:d" };
            var setup = clients[0].GetDatabase();
            foreach (var a in accounts)
            {
                await setup.StringSetAsync(a, 100);
            }

            int committed = 0, retried = 0;
            async Task Transfer(IDatabase db, Random random, int count)
            {
                for (int n = 0; n < count; n++)
                {
                    int from = random.Next(accounts.Length), to = (from + 1 + random.Next(accounts.Length - 1)) % accounts.Length;
                    while (true)
                    {
                        long a = (long)await db.StringGetAsync(accounts[from]), b = (long)await db.StringGetAsync(accounts[to]);
                        var tx = db.CreateTransaction();
                        tx.AddCondition(Condition.StringEqual(accounts[from], a));
                        tx.AddCondition(Condition.StringEqual(accounts[to], b));
                        _ = tx.StringSetAsync(accounts[from], a - 1);
                        _ = tx.StringSetAsync(accounts[to], b + 1);
                        _ = tx.StringIncrementAsync("transfers");
                        if (await tx.ExecuteAsync())
                        {
                            Interlocked.Increment(ref committed);
                            break;
                        }

                        Interlocked.Increment(ref retried);
                    }
                }
            }

            await Task.WhenAll(clients.Select((c, i) => Transfer(c.GetDatabase(), new Random(seed + i), 25)));
            var balances = await setup.StringGetAsync(accounts);
            long total = balances.Sum(v => (long)v);
            Assert.True(total == 400, $"seed {seed}: balances sum to {total}, not 400 ({retried} retries)");
            Assert.Equal(100, committed);
            Assert.Equal(100, (long)await setup.StringGetAsync("transfers"));
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
