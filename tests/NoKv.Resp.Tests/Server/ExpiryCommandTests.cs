using NoKv.Resp.Tests.Infrastructure;
using Xunit;

namespace NoKv.Resp.Tests.Server;

/// <summary>
/// Key expiry over the wire, byte for byte, with the store's clock under the test's control: SET's expiry options,
/// SETEX/PSETEX, EXPIRE and friends with NX/XX/GT/LT, PERSIST, TTL/PTTL/EXPIRETIME, GETEX, and which writes keep a
/// key's expiry (INCR, APPEND, SET KEEPTTL) and which clear it (SET, GETSET), as in Redis 7.
/// </summary>
public sealed class ExpiryCommandTests
{
    private const long Now = 1_700_000_000_000;

    [Fact]
    public async Task Set_options_and_setex_give_keys_an_expiry_that_ttl_reports_and_the_clock_ends()
    {
        await using var server = await StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        long now = Now;
        server.Memory.NowMs = () => now;

        await client.RoundTripAsync("SET a v EX 10\r\nTTL a\r\nPTTL a\r\n", "+OK\r\n:10\r\n:10000\r\n");
        await client.RoundTripAsync("SET b v PX 1500\r\nTTL b\r\nPTTL b\r\n", "+OK\r\n:2\r\n:1500\r\n");
        await client.RoundTripAsync($"SET c v PXAT {Now + 3_000}\r\nPEXPIRETIME c\r\nEXPIRETIME c\r\n", $"+OK\r\n:{Now + 3_000}\r\n:{(Now + 3_000) / 1000}\r\n");
        await client.RoundTripAsync($"SET d v EXAT {Now / 1000 + 7}\r\nTTL d\r\n", "+OK\r\n:7\r\n");
        await client.RoundTripAsync("SETEX e 5 v\r\nPSETEX f 250 v\r\nTTL e\r\nPTTL f\r\n", "+OK\r\n+OK\r\n:5\r\n:250\r\n");
        await client.RoundTripAsync("SET p v\r\nTTL p\r\nTTL missing\r\nEXPIRETIME p\r\nPEXPIRETIME missing\r\n", "+OK\r\n:-1\r\n:-2\r\n:-1\r\n:-2\r\n");

        // Bad times are refused as Redis refuses them, and change nothing.
        await client.RoundTripAsync("SETEX e 0 v\r\nPSETEX e -1 v\r\nSETEX e x v\r\n",
            "-ERR invalid expire time in 'setex' command\r\n-ERR invalid expire time in 'psetex' command\r\n-ERR value is not an integer or out of range\r\n");
        await client.RoundTripAsync("SET k v PX 0\r\nSET k v EX 9223372036854775807\r\nSET k v EX 1 PX 1\r\nSET k v KEEPTTL EX 1\r\n",
            "-ERR invalid expire time in 'set' command\r\n-ERR invalid expire time in 'set' command\r\n-ERR syntax error\r\n-ERR syntax error\r\n");

        // Time passes on the store's clock: expired keys are gone for every command.
        now += 1_500;
        await client.RoundTripAsync("GET b\r\nEXISTS b\r\nTTL b\r\nGET a\r\n", "$-1\r\n:0\r\n:-2\r\n$1\r\nv\r\n");
        now += 10_000;
        await client.RoundTripAsync("MGET a c d e f p\r\n", "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$1\r\nv\r\n");
        await client.RoundTripAsync("SET a again NX\r\nGET a\r\n", "+OK\r\n$5\r\nagain\r\n");
    }

    [Fact]
    public async Task Expire_family_follows_redis_conditions_and_persist_removes_the_expiry()
    {
        await using var server = await StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        server.Memory.NowMs = () => Now;

        await client.RoundTripAsync("EXPIRE missing 10\r\nPERSIST missing\r\n", ":0\r\n:0\r\n");
        await client.RoundTripAsync("SET k v\r\nPERSIST k\r\nEXPIRE k 100 XX\r\nEXPIRE k 100 GT\r\nEXPIRE k 100 NX\r\nTTL k\r\n",
            "+OK\r\n:0\r\n:0\r\n:0\r\n:1\r\n:100\r\n");
        await client.RoundTripAsync("EXPIRE k 50 NX\r\nEXPIRE k 50 GT\r\nEXPIRE k 200 GT\r\nEXPIRE k 300 LT\r\nPEXPIRE k 150000 LT\r\nPTTL k\r\n",
            ":0\r\n:0\r\n:1\r\n:0\r\n:1\r\n:150000\r\n");
        await client.RoundTripAsync($"PEXPIREAT k {Now + 9_000}\r\nTTL k\r\nEXPIREAT k {Now / 1000 + 20} XX\r\nTTL k\r\n", ":1\r\n:9\r\n:1\r\n:20\r\n");
        await client.RoundTripAsync("PERSIST k\r\nTTL k\r\nPERSIST k\r\nEXPIRE k 300 LT\r\nTTL k\r\n", ":1\r\n:-1\r\n:0\r\n:1\r\n:300\r\n");

        // Option errors in Redis's words; a time already past deletes the key and answers 1.
        await client.RoundTripAsync("EXPIRE k 10 NX XX\r\nEXPIRE k 10 GT LT\r\nEXPIRE k 10 FOO\r\nEXPIRE k ten\r\nEXPIRE k 9223372036854775807\r\n",
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n-ERR GT and LT options at the same time are not compatible\r\n"
            + "-ERR Unsupported option FOO\r\n-ERR value is not an integer or out of range\r\n-ERR invalid expire time in 'expire' command\r\n");
        await client.RoundTripAsync("TTL k\r\nEXPIRE k 0\r\nEXISTS k\r\n", ":300\r\n:1\r\n:0\r\n");
        await client.RoundTripAsync($"SET j v\r\nEXPIREAT j {Now / 1000 - 1}\r\nGET j\r\n", "+OK\r\n:1\r\n$-1\r\n");
    }

    [Fact]
    public async Task Read_modify_writes_keep_the_expiry_and_plain_sets_clear_it()
    {
        await using var server = await StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        server.Memory.NowMs = () => Now;

        await client.RoundTripAsync("SET n 1 EX 100\r\nINCR n\r\nINCRBY n 5\r\nDECR n\r\nAPPEND n 0\r\nTTL n\r\nGET n\r\n",
            "+OK\r\n:2\r\n:7\r\n:6\r\n:2\r\n:100\r\n$2\r\n60\r\n");
        await client.RoundTripAsync("SET n x KEEPTTL\r\nTTL n\r\nSET n y XX KEEPTTL GET\r\nTTL n\r\n", "+OK\r\n:100\r\n$1\r\nx\r\n:100\r\n");
        await client.RoundTripAsync("GETSET n z\r\nTTL n\r\nEXPIRE n 5\r\nSET n w\r\nTTL n\r\n", "$1\r\ny\r\n:-1\r\n:1\r\n+OK\r\n:-1\r\n");

        // GETEX returns the value and sets, changes or removes the expiry.
        await client.RoundTripAsync("GETEX n EX 30\r\nTTL n\r\nGETEX n\r\nTTL n\r\nGETEX n PERSIST\r\nTTL n\r\nGETEX missing EX 5\r\n",
            "$1\r\nw\r\n:30\r\n$1\r\nw\r\n:30\r\n$1\r\nw\r\n:-1\r\n$-1\r\n");
        await client.RoundTripAsync("GETEX n EX 0\r\nGETEX n PX 1 EX 1\r\nGETEX n FOO\r\n",
            "-ERR invalid expire time in 'getex' command\r\n-ERR syntax error\r\n-ERR syntax error\r\n");
        Assert.Equal(0, server.Memory.PeekExpiry("n"u8.ToArray()));
    }

    [Fact]
    public async Task Multi_exec_on_one_key_applies_expiry_changes_with_the_value()
    {
        await using var server = await StartAsync();
        using var client = await RawClient.ConnectAsync(server.Port);
        server.Memory.NowMs = () => Now;

        await client.RoundTripAsync("MULTI\r\nSET k 1\r\nEXPIRE k 60\r\nINCR k\r\nTTL k\r\nEXEC\r\n",
            "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n+OK\r\n:1\r\n:2\r\n:60\r\n");
        await client.RoundTripAsync("TTL k\r\nGET k\r\n", ":60\r\n$1\r\n2\r\n");
        Assert.Equal(Now + 60_000, server.Memory.PeekExpiry("k"u8.ToArray()));
    }

    private static Task<RespTestServer> StartAsync() => RespTestServer.StartAsync();
}
