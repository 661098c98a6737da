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
    public async Task Multi_exec_over_several_keys_commits_every_write_or_none_and_reruns_after_a_lost_race()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("MULTI\r\nSET a 1\r\nINCR b\r\nINCR a x\r\nEXEC\r\n",
            "+OK\r\n+QUEUED\r\n+QUEUED\r\n-ERR wrong number of arguments for 'incr' command\r\n-EXECABORT Transaction discarded because of previous errors.\r\n");
        Assert.Null(server.Memory.Peek("a"u8.ToArray()));
        Assert.Null(server.Memory.Peek("b"u8.ToArray()));
        Assert.Equal(0, server.Memory.TransactionsBegun);

        // A runtime error is that command's reply; the others commit with it.
        await client.RoundTripAsync("MULTI\r\nSET a 1\r\nINCR b\r\nSET c x\r\nINCR c\r\nGET a\r\nEXEC\r\n",
            "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*5\r\n+OK\r\n:1\r\n+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\n1\r\n");
        Assert.Equal("1", Encoding.ASCII.GetString(server.Memory.Peek("b"u8.ToArray())!));
        Assert.Equal("x", Encoding.ASCII.GetString(server.Memory.Peek("c"u8.ToArray())!));
        Assert.Equal(1, server.Memory.TransactionsCommitted);

        // b changes between the transaction's reads and its commit: nothing of the first attempt lands, and the queue
        // runs again on the new value, as Redis would have run it after that write.
        int once = 0;
        server.Memory.BeforeCommit = () =>
        {
            if (once++ == 0)
            {
                server.Memory.Load("b"u8.ToArray(), "100"u8.ToArray());
            }

            return Task.CompletedTask;
        };
        await client.RoundTripAsync("MULTI\r\nINCR a\r\nINCR b\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:2\r\n:101\r\n");
        Assert.Equal(3, server.Memory.TransactionsBegun);
        Assert.Equal(2, server.Memory.TransactionsCommitted);
        await client.RoundTripAsync("MGET a b\r\n", "*2\r\n$1\r\n2\r\n$3\r\n101\r\n");
    }

    [Fact]
    public async Task Watch_aborts_exec_when_the_key_was_written_since_even_with_the_same_value()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        using var other = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("SET k 1\r\nWATCH k\r\n", "+OK\r\n+OK\r\n");
        await other.RoundTripAsync("SET k 2\r\n", "+OK\r\n");
        await client.RoundTripAsync("MULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n*-1\r\n");
        await client.RoundTripAsync("GET k\r\n", "$1\r\n2\r\n");

        // A -> B -> A is a change too, as in Redis (a value comparison would miss it).
        await client.RoundTripAsync("WATCH k\r\n", "+OK\r\n");
        await other.RoundTripAsync("SET k 3\r\nSET k 2\r\n", "+OK\r\n+OK\r\n");
        await client.RoundTripAsync("MULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n*-1\r\n");

        // Unchanged: commits; EXEC forgets the watch, so a later write does not abort the next transaction.
        await client.RoundTripAsync("WATCH k\r\nMULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:3\r\n");
        await other.RoundTripAsync("SET k 7\r\n", "+OK\r\n");
        await client.RoundTripAsync("MULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n*1\r\n:8\r\n");

        // UNWATCH and DISCARD forget it too; WATCH inside MULTI is refused without failing the transaction.
        await client.RoundTripAsync("WATCH k\r\nUNWATCH\r\n", "+OK\r\n+OK\r\n");
        await other.RoundTripAsync("SET k 1\r\n", "+OK\r\n");
        await client.RoundTripAsync("MULTI\r\nWATCH k\r\nINCR k\r\nEXEC\r\n", "+OK\r\n-ERR WATCH inside MULTI is not allowed\r\n+QUEUED\r\n*1\r\n:2\r\n");
        await client.RoundTripAsync("WATCH k\r\nMULTI\r\nDISCARD\r\n", "+OK\r\n+OK\r\n+OK\r\n");
        await other.RoundTripAsync("SET k 1\r\n", "+OK\r\n");
        await client.RoundTripAsync("MULTI\r\nINCR k\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n*1\r\n:2\r\n");
    }

    [Fact]
    public async Task Watch_ignores_writes_to_other_keys_and_catches_a_write_racing_the_commit()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        using var other = await RawClient.ConnectAsync(server.Port);

        // An unwatched key read by the queue changes after WATCH: the queue sees the new value, EXEC commits.
        await client.RoundTripAsync("SET k 1\r\nSET j 1\r\nWATCH k\r\n", "+OK\r\n+OK\r\n+OK\r\n");
        await other.RoundTripAsync("SET j 5\r\n", "+OK\r\n");
        await client.RoundTripAsync("MULTI\r\nINCR j\r\nGET k\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:6\r\n$1\r\n1\r\n");

        // The watched key changes between EXEC's snapshot and its commit: the commit fails, and the rerun finds the
        // watch broken, so EXEC aborts and nothing is written.
        await client.RoundTripAsync("WATCH k\r\n", "+OK\r\n");
        int once = 0;
        server.Memory.BeforeCommit = () =>
        {
            if (once++ == 0)
            {
                server.Memory.Load("k"u8.ToArray(), "9"u8.ToArray());
            }

            return Task.CompletedTask;
        };
        await client.RoundTripAsync("MULTI\r\nINCR k\r\nSET j 0\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n");
        await client.RoundTripAsync("MGET k j\r\n", "*2\r\n$1\r\n9\r\n$1\r\n6\r\n");
    }

    [Fact]
    public async Task Time_to_live_commands_in_a_cross_shard_transaction_are_refused_and_nothing_runs()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        string refused = "-" + KeyView.ExpiryRefused + "\r\n";
        await client.RoundTripAsync("MULTI\r\nSET a 1\r\nSET b 2 EX 10\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n+QUEUED\r\n" + refused);
        await client.RoundTripAsync("MULTI\r\nSET a 1\r\nTTL b\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n+QUEUED\r\n" + refused);
        await client.RoundTripAsync("SET w 1\r\nWATCH w\r\nMULTI\r\nEXPIRE w 10\r\nEXEC\r\n", "+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n" + refused);
        Assert.Null(server.Memory.Peek("a"u8.ToArray()));
        Assert.Equal(0, server.Memory.PeekExpiry("w"u8.ToArray()));

        // INCR keeps a time to live, which a transactional write cannot: refused when the key has one, fine when not.
        server.Memory.Load("t"u8.ToArray(), "5"u8.ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 60_000);
        await client.RoundTripAsync("MULTI\r\nINCR t\r\nSET a 1\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n+QUEUED\r\n-" + CommandExecutor.KeepRefused + "\r\n");
        Assert.Equal("5", Encoding.ASCII.GetString(server.Memory.Peek("t"u8.ToArray())!));
        Assert.Null(server.Memory.Peek("a"u8.ToArray()));
        await client.RoundTripAsync("PERSIST t\r\nMULTI\r\nINCR t\r\nSET a 1\r\nEXEC\r\n", ":1\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:6\r\n+OK\r\n");

        // On one key without WATCH the queue runs with expiry as before.
        await client.RoundTripAsync("MULTI\r\nSET e 1\r\nEXPIRE e 100\r\nTTL e\r\nEXEC\r\n", "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:1\r\n:100\r\n");
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
