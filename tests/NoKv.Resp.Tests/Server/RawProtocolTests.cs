using System.Text;
using NoKv.Resp.Tests.Infrastructure;
using Xunit;

namespace NoKv.Resp.Tests.Server;

/// <summary>The gateway's wire behaviour, byte for byte: framing in RESP2 and RESP3, pipelining, limits and bad input.</summary>
public sealed class RawProtocolTests
{
    [Fact]
    public async Task Pipelined_commands_are_answered_in_order_and_see_each_other()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        var pipeline = new StringBuilder();
        var expected = new StringBuilder();
        for (int i = 0; i < 200; i++)
        {
            pipeline.Append("*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n");
            pipeline.Append("*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
            expected.Append($":{i + 1}\r\n");
            string value = (i + 1).ToString();
            expected.Append($"${value.Length}\r\n{value}\r\n");
        }

        await client.RoundTripAsync(pipeline.ToString(), expected.ToString());
    }

    [Fact]
    public async Task Nulls_and_maps_follow_the_negotiated_protocol()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("GET missing\r\n", "$-1\r\n");
        await client.SendAsync("HELLO 3\r\n");
        var hello = await client.ReadAsync(1);
        Assert.Equal("%", hello);
        await client.SendAsync("PING\r\n");
        var rest = await ReadUntilAsync(client, "+PONG\r\n");
        Assert.Contains("$5\r\nproto\r\n:3\r\n", rest);
        await client.RoundTripAsync("GET missing\r\n", "_\r\n");
        await client.RoundTripAsync("HELLO 4\r\n", "-NOPROTO unsupported protocol version\r\n");
        await client.RoundTripAsync("HELLO 2 SETNAME x\r\n", "*14\r\n");
    }

    [Fact]
    public async Task Errors_use_redis_wording_and_keep_the_connection()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("FLUSHALL now\r\n", "-ERR unknown command 'FLUSHALL', with args beginning with: 'now' \r\n");
        await client.RoundTripAsync("GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n");
        await client.RoundTripAsync("SET k v NX XX\r\n", "-ERR syntax error\r\n");
        await client.RoundTripAsync("SET k abc\r\nINCR k\r\n", "+OK\r\n-ERR value is not an integer or out of range\r\n");
        await client.RoundTripAsync("SET n 9223372036854775807\r\nINCR n\r\n", "+OK\r\n-ERR increment or decrement would overflow\r\n");
        await client.RoundTripAsync("SELECT 1\r\nSELECT 0\r\n", "-ERR DB index is out of range\r\n+OK\r\n");
        await client.RoundTripAsync("SCAN nope\r\n", "-ERR invalid cursor\r\n");
        await client.RoundTripAsync("SET k v EX 0\r\n", "-ERR invalid expire time in 'set' command\r\n");
        await client.RoundTripAsync("EXEC\r\nDISCARD\r\n", "-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n");
        await client.RoundTripAsync("PING\r\n", "+PONG\r\n");
    }

    [Fact]
    public async Task Store_errors_are_replies_not_disconnects()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("*2\r\n$3\r\nGET\r\n$0\r\n\r\n", "-ERR empty keys are not supported by NoKV\r\n");
        server.Memory.Fail = new NoKv.Abstractions.Errors.NoKvTimeoutException("Get", TimeSpan.FromSeconds(1), 3, NoKv.Abstractions.Errors.NoKvErrorCode.StoreUnavailable, null);
        await client.SendAsync("GET k\r\n");
        var reply = await ReadUntilAsync(client, "\r\n");
        Assert.StartsWith("-TRYAGAIN Get did not complete", reply);
        server.Memory.Fail = null;
        await client.RoundTripAsync("PING\r\n", "+PONG\r\n");
    }

    [Theory]
    [InlineData("*1\r\n$99999999\r\n", "-ERR Protocol error: invalid bulk length\r\n")]
    [InlineData("*9999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n")]
    [InlineData("*1\r\n:5\r\n", "-ERR Protocol error: expected '$', got ':'\r\n")]
    public async Task A_protocol_error_is_answered_and_closes_only_that_connection(string wire, string expected)
    {
        await using var server = await RespTestServer.StartAsync(o =>
        {
            o.MaxBulkBytes = 1024 * 1024;
            o.MaxArguments = 1000;
        });
        using var bad = await RawClient.ConnectAsync(server.Port);
        using var good = await RawClient.ConnectAsync(server.Port);
        await bad.SendAsync(wire);
        var reply = await ReadUntilAsync(bad, "\r\n");
        Assert.Equal(expected, reply);
        Assert.True(await bad.IsClosedAsync(TimeSpan.FromSeconds(10)));
        await good.RoundTripAsync("PING\r\n", "+PONG\r\n");
    }

    [Fact]
    public async Task A_value_over_the_bulk_limit_is_refused_without_buffering_it()
    {
        await using var server = await RespTestServer.StartAsync(o => o.MaxBulkBytes = 64 * 1024);
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.SendAsync("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000000\r\n");
        Assert.Equal("-ERR Protocol error: invalid bulk length\r\n", await ReadUntilAsync(client, "\r\n"));
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(server.Memory.Peek("k"u8.ToArray()));
    }

    [Fact]
    public async Task Connections_beyond_the_limit_are_told_and_closed()
    {
        await using var server = await RespTestServer.StartAsync(o => o.MaxConnections = 2);
        using var one = await RawClient.ConnectAsync(server.Port);
        using var two = await RawClient.ConnectAsync(server.Port);
        await one.RoundTripAsync("PING\r\n", "+PONG\r\n");
        await two.RoundTripAsync("PING\r\n", "+PONG\r\n");
        using var three = await RawClient.ConnectAsync(server.Port);
        Assert.Equal("-ERR max number of clients reached\r\n", await ReadUntilAsync(three, "\r\n"));
        Assert.True(await three.IsClosedAsync(TimeSpan.FromSeconds(10)));

        // A slot frees when a client leaves.
        one.Dispose();
        await Eventually(async () =>
        {
            using var four = await RawClient.ConnectAsync(server.Port);
            await four.SendAsync("PING\r\n");
            return await ReadUntilAsync(four, "\r\n") == "+PONG\r\n";
        });
    }

    [Fact]
    public async Task Auth_is_required_when_a_password_is_set()
    {
        await using var server = await RespTestServer.StartAsync(o => o.Password = "s3cret");
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("GET k\r\n", "-NOAUTH Authentication required.\r\n");
        await client.RoundTripAsync("AUTH wrong\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
        await client.RoundTripAsync("AUTH other s3cret\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
        await client.RoundTripAsync("AUTH default s3cret\r\nGET k\r\n", "+OK\r\n$-1\r\n");
        using var other = await RawClient.ConnectAsync(server.Port);
        await other.SendAsync("HELLO 3 AUTH default s3cret\r\n");
        Assert.Equal("%", await other.ReadAsync(1));
    }

    [Fact]
    public async Task Quit_answers_then_closes()
    {
        await using var server = await RespTestServer.StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        await client.RoundTripAsync("QUIT\r\n", "+OK\r\n");
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    private static async Task<string> ReadUntilAsync(RawClient client, string terminator)
    {
        var text = new StringBuilder();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!text.ToString().EndsWith(terminator, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no '{terminator.Replace("\r\n", "\\r\\n")}' within 10 s; got '{text}'");
            var next = await client.ReadAsync(1);
            if (next.Length == 0)
            {
                break;
            }

            text.Append(next);
        }

        return text.ToString();
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(20);
        }
    }
}
