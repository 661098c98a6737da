using System.Text;
using NoKv.Resp.Execution;
using NoKv.Resp.Tests.Infrastructure;
using Xunit;

namespace NoKv.Resp.Tests.Server;

/// <summary>Atomicity and the cursor and transaction rules, with races forced through the store fake.</summary>
public sealed class CommandSemanticsTests
{
    [Fact]
    public async Task A_read_modify_write_that_loses_a_race_is_redone_on_the_new_value()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("SET n 10\r\n", "+OK\r\n");

        // Another writer changes n between INCR's read and its swap, twice.
        int interference = 0;
        server.Memory.BeforeCompareAndSwap = key =>
        {
            if (interference++ < 2)
            {
                var current = long.Parse(Encoding.ASCII.GetString(server.Memory.Peek(key)!));
                server.Memory.Load(key, Encoding.ASCII.GetBytes((current + 100).ToString()));
            }

            return Task.CompletedTask;
        };
        await client.RoundTripAsync("INCR n\r\n", ":211\r\n");
        Assert.Equal(3, server.Memory.CompareAndSwaps);
        await client.RoundTripAsync("APPEND n x\r\nGETDEL n\r\nEXISTS n\r\n", ":4\r\n$4\r\n211x\r\n:0\r\n");
    }

    [Fact]
    public async Task Plain_set_is_one_blind_put_and_get_is_one_read()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("SET k v\r\nGET k\r\n", "+OK\r\n$1\r\nv\r\n");
        Assert.Equal(1, server.Memory.Puts);
        Assert.Equal(1, server.Memory.Gets);
        Assert.Equal(0, server.Memory.CompareAndSwaps);
    }

    [Fact]
    public async Task Multi_exec_on_one_key_is_atomic_and_replies_per_command()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("MULTI\r\nSET k 5\r\nINCRBY k 10\r\nINCR k x\r\nGET k\r\nPING\r\n",
            "+OK\r\n+QUEUED\r\n+QUEUED\r\n-ERR wrong number of arguments for 'incr' command\r\n+QUEUED\r\n+QUEUED\r\n");
        await client.RoundTripAsync("EXEC\r\n", "-EXECABORT Transaction discarded because of previous errors.\r\n");
        Assert.Null(server.Memory.Peek("k"u8.ToArray()));

        await client.RoundTripAsync("MULTI\r\nSET k 5\r\nINCRBY k 10\r\nAPPEND k z\r\nINCR k\r\nGET k\r\nEXEC\r\n",
            "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*5\r\n+OK\r\n:15\r\n:3\r\n-ERR value is not an integer or out of range\r\n$3\r\n15z\r\n");
        Assert.Equal("15z", Encoding.ASCII.GetString(server.Memory.Peek("k"u8.ToArray())!));
        await client.RoundTripAsync("MULTI\r\nMULTI\r\nDISCARD\r\nGET k\r\n", "+OK\r\n-ERR MULTI calls can not be nested\r\n+OK\r\n$3\r\n15z\r\n");
    }

    [Fact]
    public async Task Multi_exec_over_several_keys_is_refused_without_running_anything()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.SendAsync("MULTI\r\nSET a 1\r\nSET b 2\r\nEXEC\r\n");
        var reply = await client.ReadAsync("+OK\r\n+QUEUED\r\n+QUEUED\r\n-ERR this NoKV build".Length);
        Assert.EndsWith("-ERR this NoKV build", reply);
        Assert.Null(server.Memory.Peek("a"u8.ToArray()));
        Assert.Null(server.Memory.Peek("b"u8.ToArray()));
    }

    [Fact]
    public async Task Watch_aborts_exec_when_the_key_changed_and_commits_when_not()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        using var other = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("SET k 1\r\nWATCH k\r\n", "+OK\r\n+OK\r\n");
        await other.RoundTripAsync("SET k 2\r\n", "+OK\r\n");
        await client.RoundTripAsync("MULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n*-1\r\n");
        await client.RoundTripAsync("GET k\r\n", "$1\r\n2\r\n");

        await client.RoundTripAsync("WATCH k\r\nMULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:3\r\n");

        // A change that lands between EXEC's read and its swap aborts too (the swap fails, WATCH forbids a retry).
        await client.RoundTripAsync("WATCH k\r\n", "+OK\r\n");
        int once = 0;
        server.Memory.BeforeCompareAndSwap = key =>
        {
            if (once++ == 0)
            {
                server.Memory.Load(key, "9"u8.ToArray());
            }

            return Task.CompletedTask;
        };
        await client.RoundTripAsync("MULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n*-1\r\n");
        await client.RoundTripAsync("GET k\r\n", "$1\r\n9\r\n");
    }

    [Fact]
    public async Task Scan_resumes_after_the_last_key_even_when_keys_change_between_calls()
    {
        await using var server = await RespTestServer.StartAsync();
        var keys = Enumerable.Range(0, 100).Select(i => new byte[] { (byte)(i * 2), 0xFF, (byte)i }).ToList();
        foreach (var key in keys)
        {
            server.Memory.Load(key, [1]);
        }

        var returned = new List<byte[]>();
        long cursor = 0;
        int calls = 0;
        do
        {
            var page = await ScanAsync(server, cursor, 7);
            cursor = page.Cursor;
            returned.AddRange(page.Keys);

            // New keys appear and old ones go between calls; the survivors must still come back exactly once.
            server.Memory.Load([(byte)(calls * 2 + 1), 0], [1]);
            calls++;
        }
        while (cursor != 0 && calls < 100);

        Assert.Equal(0, cursor);
        foreach (var key in keys)
        {
            Assert.Equal(1, returned.Count(r => r.AsSpan().SequenceEqual(key)));
        }

        Assert.Equal(returned.Count, returned.Select(Convert.ToHexString).Distinct().Count());
    }

    [Fact]
    public async Task Scan_cursors_are_bounded_and_an_unknown_one_is_an_error()
    {
        await using var server = await RespTestServer.StartAsync(o => o.MaxScanCursors = 2);
        for (int i = 0; i < 10; i++)
        {
            server.Memory.Load([(byte)i], [1]);
        }

        var first = await ScanAsync(server, 0, 2);
        await ScanAsync(server, 0, 2);
        await ScanAsync(server, 0, 2);
        Assert.Equal(2, server.Server.Cursors.Count);
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.SendAsync($"SCAN {first.Cursor}\r\n");
        Assert.StartsWith("-ERR invalid cursor", await client.ReadAsync(19));
    }

    [Fact]
    public void Scan_successor_of_a_key_at_the_size_limit_is_the_next_possible_key()
    {
        Assert.Equal(new byte[] { 1, 2, 0 }, NoKv.Resp.Commands.ScanCommand.Successor([1, 2], 4));
        Assert.Equal(new byte[] { 1, 3 }, NoKv.Resp.Commands.ScanCommand.Successor([1, 2, 0xFF], 3));
        Assert.Null(NoKv.Resp.Commands.ScanCommand.Successor([0xFF, 0xFF], 2));
    }

    private static async Task<(long Cursor, List<byte[]> Keys)> ScanAsync(RespTestServer server, long cursor, int count)
    {
        await using var redis = await server.ConnectAsync();
        var result = await redis.GetDatabase().ExecuteAsync("SCAN", cursor.ToString(), "COUNT", count.ToString());
        var parts = (StackExchange.Redis.RedisResult[])result!;
        var keys = ((StackExchange.Redis.RedisResult[])parts[1]!).Select(k => (byte[])k!).ToList();
        return (long.Parse(parts[0].ToString()!), keys);
    }
}
